package llm

import (
	"encoding/json"
	"strings"
	"testing"
)

// Ensure the structuring schema is enforced keyword by keyword: each reply
// below breaks exactly one rule of schema/course_structure.json (a $ref'd
// definition, pattern, enum, minimum, maximum, integer, minLength,
// required), so a validator that ignores a keyword fails this test.
func TestValidateCourseStructureEnforcesEveryKeyword(t *testing.T) {
	lesson := func(l string) string {
		return `{"title":"T","modules":[{"title":"M","lessons":[` + l + `]}],"summary":"S","core_concepts":[],"mentioned_concepts":[]}`
	}
	ok := lesson(`{"title":"L","video_start_timecode":"1:02:03","slide_range":{"start":1,"end":2},` +
		`"concepts":[{"title":"C","timecodes":["00:15"],"slide_references":[3]}],` +
		`"exercises":[{"description":"D","difficulty_level":5}]}`)
	if err := ValidateCourseStructure(json.RawMessage(ok)); err != nil {
		t.Fatalf("valid reply refused: %v", err)
	}
	for name, bad := range map[string]string{
		"lesson without title ($ref)":    lesson(`{"video_start_timecode":"00:15"}`),
		"timecode pattern":               lesson(`{"title":"L","video_start_timecode":"1:75"}`),
		"slide_range minimum":            lesson(`{"title":"L","slide_range":{"start":0,"end":2}}`),
		"slide_range required":           lesson(`{"title":"L","slide_range":{"start":1}}`),
		"exercise maximum":               lesson(`{"title":"L","exercises":[{"description":"D","difficulty_level":6}]}`),
		"exercise integer":               lesson(`{"title":"L","exercises":[{"description":"D","difficulty_level":2.5}]}`),
		"concept minLength":              lesson(`{"title":"L","concepts":[{"title":""}]}`),
		"concept timecode pattern":       lesson(`{"title":"L","concepts":[{"title":"C","timecodes":["soon"]}]}`),
		"module difficulty enum":         `{"title":"T","modules":[{"title":"M","difficulty":"brutal"}],"summary":"S","core_concepts":[],"mentioned_concepts":[]}`,
		"summary required":               `{"title":"T","modules":[{"title":"M"}],"core_concepts":[],"mentioned_concepts":[]}`,
		"title type":                     `{"title":7,"modules":[{"title":"M"}],"summary":"S","core_concepts":[],"mentioned_concepts":[]}`,
		"core_concepts items type":       `{"title":"T","modules":[{"title":"M"}],"summary":"S","core_concepts":[1],"mentioned_concepts":[]}`,
		"reply is an array, not a reply": `[]`,
	} {
		err := ValidateCourseStructure(json.RawMessage(bad))
		if err == nil {
			t.Errorf("%s: accepted %s", name, bad)
			continue
		}
		if !strings.HasPrefix(err.Error(), "reply does not match the schema: ") {
			t.Errorf("%s: error %q does not say the reply broke the schema", name, err)
		}
	}
}

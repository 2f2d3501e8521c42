package llm

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
)

func f64(v float64) *float64 { return &v }
func intp(v int) *int        { return &v }

// sampleContext has a markdown document with headings, a slide deck and a
// transcript: every shape the builtin provider turns into lessons.
func sampleContext() course.StructureContext {
	return course.StructureContext{
		Target: course.ContextTarget{ID: "n1", Title: "Python 101", Description: "Basics"},
		Mode:   "free",
		Documents: []course.ContextDocument{
			{MaterialID: "m1", SourceType: "text", Filename: "notes.md", Title: "Notes", Chunks: []course.ContextChunk{
				{ChunkType: "paragraph", Text: "This course starts from zero."},
				{ChunkType: "heading", Text: "Variables", Metadata: course.ChunkMetadata{Level: intp(1)}},
				{ChunkType: "heading", Text: "Assignment", Metadata: course.ChunkMetadata{Level: intp(2)}},
				{ChunkType: "paragraph", Text: "A name is bound to a value with =. Names are case-sensitive."},
				{ChunkType: "heading", Text: "Loops", Metadata: course.ChunkMetadata{Level: intp(1)}},
				{ChunkType: "paragraph", Text: "A for loop walks an iterable! It stops at the end."},
			}},
			{MaterialID: "m2", SourceType: "presentation", Filename: "deck.pdf", Chunks: []course.ContextChunk{
				{ChunkType: "slide_text", Text: "Functions\ndef defines a function\nreturn ends it", Metadata: course.ChunkMetadata{SlideNumber: intp(1)}},
				{ChunkType: "slide_description", Text: "A diagram of a call stack.", Metadata: course.ChunkMetadata{SlideNumber: intp(1)}},
				{ChunkType: "slide_text", Text: "Modules\nimport loads a module", Metadata: course.ChunkMetadata{SlideNumber: intp(2)}},
			}},
			{MaterialID: "m3", SourceType: "video", Filename: "lecture.mp4", Chunks: []course.ContextChunk{
				{ChunkType: "transcript", Text: "Welcome to the lecture. Today we cover lists.", Metadata: course.ChunkMetadata{StartSec: f64(0), EndSec: f64(12)}},
				{ChunkType: "transcript", Text: "Lists are ordered.", Metadata: course.ChunkMetadata{StartSec: f64(12), EndSec: f64(20)}},
				{ChunkType: "transcript", Text: "Dictionaries map keys to values.", Metadata: course.ChunkMetadata{StartSec: f64(3700), EndSec: f64(3725)}},
			}},
		},
	}
}

// Ensure the builtin outline is a valid CourseStructure by the same
// validation as a real model's reply, keeps slide numbers and timecodes,
// and is deterministic.
func TestBuiltinOutline(t *testing.T) {
	a, _ := json.Marshal(Outline(sampleContext()))
	b, _ := json.Marshal(Outline(sampleContext()))
	if string(a) != string(b) {
		t.Fatal("outline is not deterministic")
	}
	if err := ValidateCourseStructure(a); err != nil {
		t.Fatalf("%v\n%s", err, a)
	}
	s := Outline(sampleContext())
	if len(s.Modules) != 3 || s.Title != "Python 101" {
		t.Fatalf("modules %+v", s.Modules)
	}
	text := s.Modules[0].Lessons
	if len(text) != 3 || text[0].Title != "Introduction" || text[1].Title != "Variables" || text[1].Concepts[0].Title != "Assignment" || text[2].Title != "Loops" {
		t.Fatalf("heading lessons %+v", text)
	}
	slides := s.Modules[1].Lessons
	if len(slides) != 2 || slides[0].Title != "Functions" || slides[0].SlideRange.Start != 1 || len(slides[0].Concepts) != 3 || slides[0].Concepts[0].SlideReferences[0] != 1 {
		t.Fatalf("slide lessons %+v", slides)
	}
	video := s.Modules[2].Lessons
	if len(video) != 2 || video[0].VideoStartTimecode != "00:00" || video[0].VideoEndTimecode != "00:20" || video[1].VideoStartTimecode != "01:01:40" ||
		video[0].Concepts[1].Timecodes[0] != "00:12" {
		t.Fatalf("transcript lessons %+v", video)
	}
	if len(s.CoreConcepts) == 0 || len(s.MentionedConcepts) == 0 {
		t.Fatalf("concept lists %v / %v", s.CoreConcepts, s.MentionedConcepts)
	}
}

// Ensure an empty context still yields a valid structure.
func TestBuiltinEmptyContext(t *testing.T) {
	out, _ := json.Marshal(Outline(course.StructureContext{}))
	if err := ValidateCourseStructure(out); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// Ensure the builtin model answers through the router only when allowed,
// at cost 0 under its own name, and passes the router's validation.
func TestBuiltinThroughRouter(t *testing.T) {
	reg, err := LoadRegistry(EmbeddedRegistry(), shippedLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	reg.EnableBuiltin()
	rec := &memRecorder{}
	ctxJSON, _ := json.Marshal(sampleContext())
	req := structuringRequest()
	req.Context = ctxJSON

	off, _ := New(Options{Registry: reg, Recorder: rec})
	if off.Configured(course.ActionCourseStructuring) {
		t.Fatal("builtin usable without permission")
	}
	on, _ := New(Options{Registry: reg, Recorder: rec, BuiltinAllowed: true})
	out, err := on.Complete(context.Background(), course.LLMCall{Action: course.ActionCourseStructuring, Strategy: "quality"}, req)
	if err != nil {
		t.Fatal(err)
	}
	row := rec.rows[0]
	if row.ModelID != BuiltinModelID || row.Provider != "builtin" || *row.CostUSD != 0 || *row.UnitIn == 0 || row.Strategy != "quality" || !row.Success {
		t.Fatalf("audit %+v", row)
	}
	if err := ValidateCourseStructure(out.JSON); err != nil {
		t.Fatal(err)
	}
}

// Ensure the concept rule rejects a concept that is both core and mentioned.
func TestValidateRejectsOverlappingConcepts(t *testing.T) {
	bad := `{"title":"T","modules":[{"title":"M"}],"summary":"S","core_concepts":["Loops"],"mentioned_concepts":[" loops "]}`
	if err := ValidateCourseStructure(json.RawMessage(bad)); err == nil {
		t.Fatal("overlap accepted")
	}
	if err := ValidateCourseStructure(json.RawMessage(`{"title":"T","modules":[],"summary":"S","core_concepts":[],"mentioned_concepts":[]}`)); err == nil {
		t.Fatal("a structure without modules was accepted")
	}
}

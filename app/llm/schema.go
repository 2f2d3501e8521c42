package llm

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

//go:embed schema/course_structure.json
var courseStructureSchema []byte

// CourseStructureSchema returns the JSON schema of the structuring reply
// (docs/design/llm.md, "CourseStructure"): what json_schema and tool
// modes send, and what prompt modes paste into the system prompt.
func CourseStructureSchema() json.RawMessage { return bytes.Clone(courseStructureSchema) }

// ValidateCourseStructure checks a structuring reply the way the router
// does for every model, builtin included: the JSON schema, then the rule
// a schema cannot express: core and mentioned concepts are disjoint
// (trimmed, case-insensitive).
func ValidateCourseStructure(reply json.RawMessage) error {
	if err := validateSchema(courseStructureSchema, reply); err != nil {
		return err
	}
	return CheckCourseStructure(reply)
}

// CheckCourseStructure is the non-schema rule of a CourseStructure, as a
// course.CompletionRequest.Check.
func CheckCourseStructure(reply json.RawMessage) error {
	var s struct {
		Core      []string `json:"core_concepts"`
		Mentioned []string `json:"mentioned_concepts"`
	}
	if err := json.Unmarshal(reply, &s); err != nil {
		return fmt.Errorf("course structure: %w", err)
	}
	core := map[string]bool{}
	for _, c := range s.Core {
		core[strings.ToLower(strings.TrimSpace(c))] = true
	}
	for _, m := range s.Mentioned {
		if core[strings.ToLower(strings.TrimSpace(m))] {
			return fmt.Errorf("course structure: %q is both a core and a mentioned concept", m)
		}
	}
	return nil
}

// compiled caches resolved schemas by content hash: a chain re-validates
// with the same schema on every attempt.
//
// The validator is github.com/google/jsonschema-go (already linked by the
// Anthropic SDK): it does nothing at package init, whereas the validator
// used before compiled every draft's meta-schemas in its init, which was
// the largest single cost of process start (docs/performance.md,
// "Footprint").
var compiled sync.Map // [32]byte -> *jsonschema.Resolved

func validateSchema(schema, reply json.RawMessage) error {
	key := sha256.Sum256(schema)
	rs, ok := compiled.Load(key)
	if !ok {
		var s jsonschema.Schema
		if err := json.Unmarshal(schema, &s); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
		r, err := s.Resolve(nil)
		if err != nil {
			return fmt.Errorf("schema: %w", err)
		}
		rs, _ = compiled.LoadOrStore(key, r)
	}
	var inst any
	if err := json.Unmarshal(reply, &inst); err != nil {
		return fmt.Errorf("reply is not JSON: %w", err)
	}
	if err := rs.(*jsonschema.Resolved).Validate(inst); err != nil {
		return fmt.Errorf("reply does not match the schema: %s", strings.Join(strings.Fields(err.Error()), " "))
	}
	return nil
}

// parseReply strips Markdown code fences and returns the JSON object of a
// structured reply.
func parseReply(text string) (json.RawMessage, error) {
	s := strings.TrimSpace(text)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(s, "```")
		if nl := strings.IndexByte(s, '\n'); nl >= 0 {
			s = s[nl+1:] // drop the info string (json)
		} else {
			s = ""
		}
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
	}
	if !strings.HasPrefix(s, "{") || !json.Valid([]byte(s)) {
		return nil, errors.New("reply is not a JSON object")
	}
	return json.RawMessage(s), nil
}

package llm

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Ensure every shipped prompt loads, renders with its data, and carries
// the version stored as prompt_ref.
func TestShippedPrompts(t *testing.T) {
	p, err := LoadPrompts(EmbeddedPrompts())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{PromptArchitectFree: "v1_free", PromptArchitectGuided: "v1_guided", PromptReconcile: "v1_reconcile",
		PromptRefine: "v1_refine", PromptSlide: "v1_slide"}
	data := PromptData{Context: `{"documents":[]}`, Mode: "guided", NodeTitle: "Python 101", Outline: "1. Basics", SlideNumber: 7,
		CurrentStructure: `{"title":"x"}`, ParentSummary: "Parent."}
	for name, version := range want {
		r, err := p.Render(name, data)
		if err != nil || r.Version != version || r.System == "" {
			t.Fatalf("%s: %v %+v", name, err, r)
		}
		if name != PromptSlide && (!strings.Contains(r.User, `{"documents":[]}`) || !strings.Contains(r.User, "Python 101")) {
			t.Fatalf("%s does not carry the context:\n%s", name, r.User)
		}
	}
	if r, _ := p.Render(PromptSlide, data); !strings.Contains(r.User, "slide 7") {
		t.Fatalf("slide prompt: %s", r.User)
	}
	if r, _ := p.Render(PromptArchitectGuided, data); !strings.Contains(r.User, "1. Basics") {
		t.Fatalf("guided prompt lacks the outline: %s", r.User)
	}
	if GenerationPrompt("guided") != PromptArchitectGuided || GenerationPrompt("free") != PromptArchitectFree {
		t.Fatal("generation prompt names")
	}
}

// Ensure a bad prompt directory stops start-up with a clear message.
func TestPromptProblems(t *testing.T) {
	good := func() fstest.MapFS {
		fs := fstest.MapFS{}
		for _, n := range requiredPrompts {
			fs[n+".yaml"] = &fstest.MapFile{Data: []byte("version: v_" + n + "\nsystem: s\nuser: u {{.NodeTitle}}\n")}
		}
		return fs
	}
	cases := map[string]struct {
		file, body, want string
	}{
		"unknown key":    {"refine.yaml", "version: v\nsystem: s\nuser: u\ntemperature: 1\n", "field temperature not found"},
		"bad template":   {"refine.yaml", "version: v\nsystem: s\nuser: u {{.NodeTitle\n", "user template"},
		"unknown field":  {"refine.yaml", "version: v\nsystem: s\nuser: u {{.Nope}}\n", "can't evaluate field Nope"},
		"long version":   {"refine.yaml", "version: " + strings.Repeat("v", 51) + "\nsystem: s\nuser: u\n", "1 to 50 characters"},
		"no system":      {"refine.yaml", "version: v\nuser: u\n", "system and user are required"},
		"duplicate":      {"refine.yaml", "version: v_reconcile\nsystem: s\nuser: u\n", `version "v_reconcile" is also used`},
		"missing prompt": {"refine.yaml", "", "refine.yaml: required prompt is missing"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fs := good()
			if tc.body == "" {
				delete(fs, tc.file)
			} else {
				fs[tc.file] = &fstest.MapFile{Data: []byte(tc.body)}
			}
			_, err := LoadPrompts(fs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := LoadPrompts(good()); err != nil {
		t.Fatal(err)
	}
}

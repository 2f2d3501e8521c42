package llm

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

//go:embed prompts/*.yaml
var embeddedPrompts embed.FS

// EmbeddedPrompts returns the prompt files shipped in the binary.
func EmbeddedPrompts() fs.FS {
	sub, _ := fs.Sub(embeddedPrompts, "prompts")
	return sub
}

// Prompt names (file names without .yaml) and the callers that use them.
const (
	PromptArchitectFree   = "architect_free"    // generate, mode free
	PromptArchitectGuided = "architect_guided"  // generate, mode guided
	PromptReconcile       = "reconcile"         // reconcile
	PromptRefine          = "refine"            // refine
	PromptSlide           = "slide_description" // PDF vision (presentation_analysis)
)

// requiredPrompts must exist in every prompt directory.
var requiredPrompts = []string{PromptArchitectFree, PromptArchitectGuided, PromptReconcile, PromptRefine, PromptSlide}

// PromptData is what the user templates may reference. Context,
// ChildrenSummaries, ParentSummary, SiblingSummaries and CurrentStructure
// are JSON text; Schema is the reply schema, for custom prompts (the
// router already adds it for models without native schema support).
type PromptData struct {
	Context           string
	Mode              string
	NodeTitle         string
	NodeDescription   string
	Outline           string
	ChildrenSummaries string
	ParentSummary     string
	SiblingSummaries  string
	CurrentStructure  string
	Schema            string
	SlideNumber       int
}

// Prompt is one parsed prompt file.
type Prompt struct {
	Name        string
	Version     string // stored as prompt_ref
	System      string
	Description string
	user        *template.Template
}

// Rendered is a prompt ready to send.
type Rendered struct {
	Version string
	System  string
	User    string
}

// Prompts is the prompt registry.
type Prompts struct{ byName map[string]*Prompt }

type promptFile struct {
	Version     string `yaml:"version"`
	System      string `yaml:"system"`
	User        string `yaml:"user"`
	Description string `yaml:"description"`
}

// LoadPrompts parses every *.yaml of fsys and compiles its template. A bad
// file, a duplicate version or a missing required prompt is an error: the
// process must not start with a prompt that cannot render.
func LoadPrompts(fsys fs.FS) (*Prompts, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	sort.Strings(files)
	p := &Prompts{byName: map[string]*Prompt{}}
	var problems []string
	versions := map[string]string{}
	for _, f := range files {
		pr, err := loadPrompt(fsys, f)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if other, dup := versions[pr.Version]; dup {
			problems = append(problems, fmt.Sprintf("%s: version %q is also used by %s", f, pr.Version, other))
		}
		versions[pr.Version] = f
		p.byName[pr.Name] = pr
	}
	for _, name := range requiredPrompts {
		if _, ok := p.byName[name]; !ok {
			problems = append(problems, fmt.Sprintf("%s.yaml: required prompt is missing", name))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("prompts:\n  %s", strings.Join(problems, "\n  "))
	}
	return p, nil
}

func loadPrompt(fsys fs.FS, file string) (*Prompt, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var pf promptFile
	if err := dec.Decode(&pf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if n := len(pf.Version); n < 1 || n > 50 {
		return nil, fmt.Errorf("%s: version must be 1 to 50 characters", file)
	}
	if strings.TrimSpace(pf.System) == "" || strings.TrimSpace(pf.User) == "" {
		return nil, fmt.Errorf("%s: system and user are required", file)
	}
	name := strings.TrimSuffix(path.Base(file), ".yaml")
	tmpl, err := template.New(name).Option("missingkey=error").Parse(pf.User)
	if err != nil {
		return nil, fmt.Errorf("%s: user template: %w", file, err)
	}
	// A trial run catches references to fields PromptData does not have.
	if err := tmpl.Execute(new(bytes.Buffer), PromptData{}); err != nil {
		return nil, fmt.Errorf("%s: user template: %w", file, err)
	}
	return &Prompt{Name: name, Version: pf.Version, System: strings.TrimSpace(pf.System), Description: pf.Description, user: tmpl}, nil
}

// Get returns a prompt by name.
func (p *Prompts) Get(name string) (*Prompt, bool) {
	pr, ok := p.byName[name]
	return pr, ok
}

// Render executes a prompt's user template with data.
func (p *Prompts) Render(name string, data PromptData) (Rendered, error) {
	pr, ok := p.byName[name]
	if !ok {
		return Rendered{}, errors.New("prompts: unknown prompt " + name)
	}
	var b bytes.Buffer
	if err := pr.user.Execute(&b, data); err != nil {
		return Rendered{}, fmt.Errorf("prompts: render %s: %w", name, err)
	}
	return Rendered{Version: pr.Version, System: pr.System, User: strings.TrimSpace(b.String())}, nil
}

// GenerationPrompt names the prompt of a generation mode (free, guided).
func GenerationPrompt(mode string) string {
	if mode == "guided" {
		return PromptArchitectGuided
	}
	return PromptArchitectFree
}

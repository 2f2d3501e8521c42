// Package llm is the one door through which every external AI call passes
// (chat, vision, transcription, embeddings): the model registry, the
// providers on the vendors' official SDKs, the router with its fallback
// chains and retries, the per-attempt audit, and the prompt registry.
// docs/design/llm.md describes it.
package llm

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed llm.yaml
var embeddedRegistry []byte

// EmbeddedRegistry returns the registry shipped in the binary.
func EmbeddedRegistry() []byte { return bytes.Clone(embeddedRegistry) }

// Provider kinds.
const (
	KindOpenAI    = "openai_compatible"
	KindAnthropic = "anthropic"
	KindBuiltin   = "builtin"
)

// Capabilities a model may declare and an action may require.
const (
	CapStructured    = "structured_output"
	CapVision        = "vision"
	CapTranscription = "transcription"
	CapEmbedding     = "embedding"
	CapLongContext   = "long_context"
)

// Structured-output modes: how a JSON schema reaches the model.
const (
	ModeJSONSchema = "json_schema" // response_format json_schema (OpenAI-compatible)
	ModeJSONObject = "json_object" // response_format json_object + schema in the system prompt
	ModeTool       = "tool"        // one forced tool whose input_schema is the schema (Anthropic)
	ModePrompt     = "prompt"      // schema in the system prompt only
)

// BuiltinModelID is the offline model's id in snapshots, audit rows and
// the cost report.
const BuiltinModelID = "builtin-outline"

// EmbeddingDimensions is the vector size of the embedding column.
const EmbeddingDimensions = 1536

// Registry is the parsed and validated llm.yaml.
type Registry struct {
	Providers map[string]*ProviderSpec `yaml:"providers"`
	Models    map[string]*ModelSpec    `yaml:"models"`
	Actions   map[string]*ActionSpec   `yaml:"actions"`
}

// ProviderSpec is one API endpoint and its credentials.
type ProviderSpec struct {
	Name           string `yaml:"-"`
	Kind           string `yaml:"kind"`
	BaseURL        string `yaml:"base_url"`
	APIKeyEnv      string `yaml:"api_key_env"`
	APIKeyOptional bool   `yaml:"api_key_optional"`
	Enabled        *bool  `yaml:"enabled"`
	// APIKey is the value of APIKeyEnv, resolved at load.
	APIKey string `yaml:"-"`
}

// Usable reports whether calls may go to this provider: enabled, and a
// key present (or optional with a base URL, for local servers). The
// builtin provider is usable only when the configuration allows it.
func (p *ProviderSpec) Usable(builtinAllowed bool) bool {
	if p.Enabled != nil && !*p.Enabled {
		return false
	}
	switch {
	case p.Kind == KindBuiltin:
		return builtinAllowed
	case p.BaseURL == "":
		return false
	case p.APIKey != "":
		return true
	}
	return p.APIKeyOptional
}

// ModelSpec is one model of a provider.
type ModelSpec struct {
	ID               string   `yaml:"-"`
	Provider         string   `yaml:"provider"`
	ProviderModel    string   `yaml:"provider_model"`
	Capabilities     []string `yaml:"capabilities"`
	StructuredOutput string   `yaml:"structured_output"`
	MaxOutputTokens  int      `yaml:"max_output_tokens"`
	Dimensions       int      `yaml:"dimensions"`
	Cost             *Cost    `yaml:"cost"`
}

// Has reports whether the model declares every capability in caps.
func (m *ModelSpec) Has(caps []string) bool {
	for _, c := range caps {
		if !slices.Contains(m.Capabilities, c) {
			return false
		}
	}
	return true
}

// Cost is a model's price; nil prices are unknown (cost NULL, never 0).
type Cost struct {
	Unit      string   `yaml:"unit"` // tokens | seconds
	InPer1K   *float64 `yaml:"in_per_1k"`
	OutPer1K  *float64 `yaml:"out_per_1k"`
	PerMinute *float64 `yaml:"per_minute"`
}

// ActionSpec maps an action to its required capabilities and chains.
type ActionSpec struct {
	Requires []string            `yaml:"requires"`
	Chains   map[string][]string `yaml:"chains"`
}

// LookupFunc resolves a variable the registry references; ok is false for
// a name the configuration does not read (an error: every variable the
// service reads is documented in .env.example).
type LookupFunc func(name string) (value string, ok bool)

// allowedKeys lists the keys of every mapping level; anything else is a
// startup error, so a typo never silently disables a setting.
var allowedKeys = map[string][]string{
	"":         {"providers", "models", "actions"},
	"provider": {"kind", "base_url", "api_key_env", "api_key_optional", "enabled"},
	"model":    {"provider", "provider_model", "capabilities", "structured_output", "max_output_tokens", "dimensions", "cost"},
	"cost":     {"unit", "in_per_1k", "out_per_1k", "per_minute"},
	"action":   {"requires", "chains"},
}

// LoadRegistry parses, expands and validates a registry. Every problem is
// reported, one line each.
func LoadRegistry(data []byte, lookup LookupFunc) (*Registry, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("llm registry: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("llm registry: empty document")
	}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	doc := root.Content[0]
	expand(doc, lookup, fail)
	checkKeys(doc, "", "", fail)
	reg := &Registry{}
	if err := doc.Decode(reg); err != nil {
		fail("%v", err)
	}
	if len(problems) == 0 {
		reg.resolve(lookup, fail)
		reg.validate(fail)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("llm registry:\n  %s", strings.Join(problems, "\n  "))
	}
	return reg, nil
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// expand replaces ${VAR} and ${VAR:-default} in every scalar. An
// expanded plain scalar is re-typed from its new value, so
// "enabled: ${X:-false}" decodes as a bool.
func expand(n *yaml.Node, lookup LookupFunc, fail func(string, ...any)) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = varRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := varRef.FindStringSubmatch(ref)
			v, ok := lookup(m[1])
			if !ok {
				fail("line %d: ${%s} is not a variable the service reads", n.Line, m[1])
			}
			if v == "" && strings.Contains(ref, ":-") {
				return m[2]
			}
			return v
		})
		if n.Style == 0 {
			n.Tag = ""
		}
	}
	for _, c := range n.Content {
		expand(c, lookup, fail)
	}
}

// checkKeys walks the mapping levels and reports unknown keys.
func checkKeys(n *yaml.Node, level, path string, fail func(string, ...any)) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowedKeys[level], k.Value) {
			fail("line %d: unknown key %q in %s", k.Line, k.Value, orRoot(path))
			continue
		}
		child := map[string]string{"providers": "provider", "models": "model", "actions": "action"}[k.Value]
		switch {
		case level == "" && child != "":
			if v.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				checkKeys(v.Content[j+1], child, k.Value+"."+v.Content[j].Value, fail)
			}
		case level == "model" && k.Value == "cost":
			checkKeys(v, "cost", path+".cost", fail)
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

// resolve fills names and API keys.
func (r *Registry) resolve(lookup LookupFunc, fail func(string, ...any)) {
	for name, p := range r.Providers {
		if p == nil {
			p = &ProviderSpec{}
			r.Providers[name] = p
		}
		p.Name = name
		if p.APIKeyEnv != "" {
			v, ok := lookup(p.APIKeyEnv)
			if !ok {
				fail("providers.%s.api_key_env: %s is not a variable the service reads", name, p.APIKeyEnv)
			}
			p.APIKey = v
		}
		p.BaseURL = strings.TrimRight(p.BaseURL, "/")
	}
	for id, m := range r.Models {
		if m == nil {
			m = &ModelSpec{}
			r.Models[id] = m
		}
		m.ID = id
		if m.StructuredOutput == "" && slices.Contains(m.Capabilities, CapStructured) {
			m.StructuredOutput = ModePrompt
		}
	}
	for name, a := range r.Actions {
		if a == nil {
			r.Actions[name] = &ActionSpec{}
		}
	}
}

var (
	kinds        = []string{KindOpenAI, KindAnthropic, KindBuiltin}
	capabilities = []string{CapStructured, CapVision, CapTranscription, CapEmbedding, CapLongContext}
	modesOf      = map[string][]string{
		KindOpenAI:    {ModeJSONSchema, ModeJSONObject, ModePrompt},
		KindAnthropic: {ModeTool, ModePrompt},
		KindBuiltin:   {ModeJSONSchema, ModeJSONObject, ModeTool, ModePrompt},
	}
)

func (r *Registry) validate(fail func(string, ...any)) {
	for _, name := range sortedKeys(r.Providers) {
		p := r.Providers[name]
		if !slices.Contains(kinds, p.Kind) {
			fail("providers.%s.kind: must be one of %s, got %q", name, strings.Join(kinds, ", "), p.Kind)
		}
		if p.BaseURL != "" {
			if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				fail("providers.%s.base_url: must be an absolute http(s) URL", name)
			}
		}
	}
	for _, id := range sortedKeys(r.Models) {
		r.validateModel(r.Models[id], fail)
	}
	for _, name := range sortedKeys(r.Actions) {
		a := r.Actions[name]
		for _, c := range a.Requires {
			if !slices.Contains(capabilities, c) {
				fail("actions.%s.requires: unknown capability %q", name, c)
			}
		}
		if _, ok := a.Chains["default"]; !ok {
			fail("actions.%s.chains: a default chain is required", name)
		}
		for _, strategy := range sortedKeys(a.Chains) {
			for _, id := range a.Chains[strategy] {
				m, ok := r.Models[id]
				switch {
				case !ok:
					fail("actions.%s.chains.%s: unknown model %q", name, strategy, id)
				case !m.Has(a.Requires):
					fail("actions.%s.chains.%s: model %q lacks a required capability (%s)", name, strategy, id, strings.Join(a.Requires, ", "))
				}
			}
		}
	}
}

func (r *Registry) validateModel(m *ModelSpec, fail func(string, ...any)) {
	p, ok := r.Providers[m.Provider]
	if !ok {
		fail("models.%s.provider: unknown provider %q", m.ID, m.Provider)
		return
	}
	if m.ProviderModel == "" && p.Kind != KindBuiltin && p.Usable(false) {
		fail("models.%s.provider_model: is required", m.ID)
	}
	for _, c := range m.Capabilities {
		if !slices.Contains(capabilities, c) {
			fail("models.%s.capabilities: unknown capability %q", m.ID, c)
		}
	}
	if modes, known := modesOf[p.Kind]; known && m.StructuredOutput != "" && !slices.Contains(modes, m.StructuredOutput) {
		fail("models.%s.structured_output: %q is not supported by a %s provider", m.ID, m.StructuredOutput, p.Kind)
	}
	if slices.Contains(m.Capabilities, CapEmbedding) && m.Dimensions != EmbeddingDimensions {
		fail("models.%s.dimensions: embedding models must declare %d", m.ID, EmbeddingDimensions)
	}
	if m.MaxOutputTokens < 0 {
		fail("models.%s.max_output_tokens: must not be negative", m.ID)
	}
	if c := m.Cost; c != nil {
		if c.Unit != "tokens" && c.Unit != "seconds" {
			fail("models.%s.cost.unit: must be tokens or seconds, got %q", m.ID, c.Unit)
		}
		for _, v := range []*float64{c.InPer1K, c.OutPer1K, c.PerMinute} {
			if v != nil && *v < 0 {
				fail("models.%s.cost: prices must not be negative", m.ID)
			}
		}
	}
}

// EnableBuiltin appends the builtin model to every chain of the actions it
// can serve, as the last resort. It is never in a shipped chain: the
// configuration opts in (LLM_BUILTIN_ENABLED).
func (r *Registry) EnableBuiltin() {
	m, ok := r.Models[BuiltinModelID]
	if !ok {
		return
	}
	for _, a := range r.Actions {
		if len(a.Requires) == 0 || !m.Has(a.Requires) {
			continue
		}
		for s, chain := range a.Chains {
			if !slices.Contains(chain, BuiltinModelID) {
				a.Chains[s] = append(chain, BuiltinModelID)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

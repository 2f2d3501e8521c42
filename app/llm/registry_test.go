package llm

import (
	"strings"
	"testing"
)

// shippedVars are the variables the configuration reads for the registry.
func shippedLookup(vars map[string]string) LookupFunc {
	known := []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_DEFAULT_MODEL", "DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL",
		"DEEPSEEK_DEFAULT_MODEL", "GEMINI_API_KEY", "GEMINI_BASE_URL", "GEMINI_DEFAULT_MODEL", "ANTHROPIC_API_KEY",
		"ANTHROPIC_BASE_URL", "ANTHROPIC_DEFAULT_MODEL", "LOCAL_LLM_BASE_URL", "LOCAL_LLM_API_KEY", "LOCAL_LLM_MODEL",
		"TRANSCRIPTION_MODEL", "EMBEDDING_MODEL"}
	return func(name string) (string, bool) {
		for _, k := range known {
			if k == name {
				return vars[name], true
			}
		}
		return "", false
	}
}

// Ensure the shipped registry loads with no keys, expands defaults and
// overrides, and keeps the builtin model out of every chain until enabled.
func TestShippedRegistry(t *testing.T) {
	reg, err := LoadRegistry(EmbeddedRegistry(), shippedLookup(map[string]string{"GEMINI_DEFAULT_MODEL": "gemini-exp", "GEMINI_API_KEY": "g"}))
	if err != nil {
		t.Fatal(err)
	}
	if reg.Models["gemini-2.5-flash"].ProviderModel != "gemini-exp" || reg.Models["deepseek-chat"].ProviderModel != "deepseek-chat" {
		t.Fatalf("expansion: %+v %+v", reg.Models["gemini-2.5-flash"], reg.Models["deepseek-chat"])
	}
	if reg.Providers["openai"].BaseURL != "https://api.openai.com/v1" || !reg.Providers["gemini"].Usable(false) || reg.Providers["openai"].Usable(false) {
		t.Fatal("providers: key presence decides usability")
	}
	if reg.Providers["local"].Usable(false) || reg.Providers["builtin"].Usable(false) || !reg.Providers["builtin"].Usable(true) {
		t.Fatal("local needs a base URL; builtin needs explicit permission")
	}
	for name, a := range reg.Actions {
		for s, chain := range a.Chains {
			for _, id := range chain {
				if id == BuiltinModelID {
					t.Fatalf("builtin model in shipped chain %s.%s", name, s)
				}
			}
		}
	}
	reg.EnableBuiltin()
	if c := reg.Actions["course_structuring"].Chains; c["default"][len(c["default"])-1] != BuiltinModelID || c["quality"][len(c["quality"])-1] != BuiltinModelID {
		t.Fatalf("builtin not appended: %v", c)
	}
	if c := reg.Actions["transcribe"].Chains["default"]; len(c) != 1 {
		t.Fatalf("builtin appended to an action it cannot serve: %v", c)
	}
}

// Ensure every inconsistency is a startup error of one line naming it.
func TestRegistryProblems(t *testing.T) {
	const base = `
providers:
  p: {kind: openai_compatible, base_url: "https://x.example/v1", api_key_env: OPENAI_API_KEY}
models:
  m: {provider: p, provider_model: pm, capabilities: [structured_output], structured_output: json_schema}
actions:
  a: {requires: [structured_output], chains: {default: [m]}}
`
	cases := map[string]struct{ from, to, want string }{
		"unknown top key":      {"actions:", "extras: {}\nactions:", `line 6: unknown key "extras" in the top level`},
		"unknown provider key": {"api_key_env: OPENAI_API_KEY}", "api_key_env: OPENAI_API_KEY, timeout: 3}", `unknown key "timeout" in providers.p`},
		"unknown model key":    {"provider_model: pm,", "provider_model: pm, price: 1,", `unknown key "price" in models.m`},
		"unknown cost key":     {"structured_output: json_schema}", "structured_output: json_schema, cost: {unit: tokens, per_token: 1}}", `unknown key "per_token" in models.m.cost`},
		"unknown provider":     {"{provider: p,", "{provider: q,", `models.m.provider: unknown provider "q"`},
		"bad kind":             {"kind: openai_compatible", "kind: grpc", `providers.p.kind: must be one of`},
		"no default chain":     {"chains: {default: [m]}", "chains: {quality: [m]}", "actions.a.chains: a default chain is required"},
		"unknown chain model":  {"default: [m]", "default: [m, n]", `actions.a.chains.default: unknown model "n"`},
		"missing capability":   {"requires: [structured_output]", "requires: [vision]", `model "m" lacks a required capability (vision)`},
		"mode of kind":         {"structured_output: json_schema}", "structured_output: tool}", `"tool" is not supported by a openai_compatible provider`},
		"embedding dimensions": {"capabilities: [structured_output]", "capabilities: [structured_output, embedding], dimensions: 768", "embedding models must declare 1536"},
		"negative price":       {"structured_output: json_schema}", "structured_output: json_schema, cost: {unit: tokens, in_per_1k: -1}}", "prices must not be negative"},
		"undocumented var":     {`"https://x.example/v1"`, `"${SOME_SECRET}"`, "${SOME_SECRET} is not a variable the service reads"},
		"undocumented key var": {"api_key_env: OPENAI_API_KEY", "api_key_env: MY_KEY", "api_key_env: MY_KEY is not a variable"},
		"bad base url":         {`"https://x.example/v1"`, `"x.example"`, "providers.p.base_url: must be an absolute http(s) URL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			text := strings.Replace(base, tc.from, tc.to, 1)
			if text == base {
				t.Fatalf("case does not change the registry")
			}
			_, err := LoadRegistry([]byte(text), shippedLookup(map[string]string{"OPENAI_API_KEY": "k"}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if lines := strings.Count(err.Error(), "\n"); lines != 1 {
				t.Fatalf("want exactly one problem line, got:\n%v", err)
			}
		})
	}
	if _, err := LoadRegistry([]byte(base), shippedLookup(map[string]string{"OPENAI_API_KEY": "k"})); err != nil {
		t.Fatalf("base registry: %v", err)
	}
}

// Ensure "${VAR:-default}" in a plain scalar is re-typed after expansion.
func TestExpansionRetypesPlainScalars(t *testing.T) {
	reg, err := LoadRegistry([]byte(`
providers:
  p:
    kind: openai_compatible
    base_url: ${OPENAI_BASE_URL:-https://d.example}
    enabled: ${LOCAL_LLM_MODEL:-false}
models: {}
actions: {}
`), shippedLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p := reg.Providers["p"]; p.BaseURL != "https://d.example" || p.Enabled == nil || *p.Enabled {
		t.Fatalf("%+v", p)
	}
}

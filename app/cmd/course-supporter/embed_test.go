package main

import (
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/llm"
)

// Ensure EMBEDDINGS_ENABLED is applied at start: auto follows the
// registry, true without a usable model and a model of another width are
// startup errors, false is off whatever the registry says.
func TestEmbeddingPolicyAtStart(t *testing.T) {
	withKey := llmtest.Router(t, "http://127.0.0.1:1/v1", "sk-test", nil)
	noKey := llmtest.Router(t, "http://127.0.0.1:1/v1", "", nil)
	cases := []struct {
		setting string
		router  *llm.Router
		model   string
		err     string
	}{
		{"auto", withKey, "text-embedding-3-small", ""},
		{"auto", noKey, "", ""},
		{"true", withKey, "text-embedding-3-small", ""},
		{"true", noKey, "", "no usable model"},
		{"false", withKey, "", ""},
	}
	for _, c := range cases {
		p, err := embeddingPolicy(config.Embeddings{Enabled: c.setting, BatchSize: 64}, c.router)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.setting, err, c.err)
			}
			continue
		}
		if err != nil || p.Model != c.model {
			t.Errorf("%s: %+v %v, want model %q", c.setting, p, err, c.model)
		}
	}
	// A model of another dimension never loads.
	_, err := llm.LoadRegistry([]byte(`
providers:
  openai: {kind: openai_compatible, base_url: "http://x/v1", api_key_env: OPENAI_API_KEY}
models:
  small: {provider: openai, provider_model: m, capabilities: [embedding], dimensions: 768}
actions:
  embed: {requires: [embedding], chains: {default: [small]}}
`), func(string) (string, bool) { return "k", true })
	if err == nil || !strings.Contains(err.Error(), "1536") {
		t.Errorf("a 768-dimension model loaded: %v", err)
	}
}

// Ensure EMBEDDING_DIMENSIONS other than the column's width is refused.
func TestEmbeddingDimensionsConfig(t *testing.T) {
	_, err := config.Load(func(n string) (string, bool) {
		if n == "EMBEDDING_DIMENSIONS" {
			return "3072", true
		}
		return "", false
	})
	if err == nil || !strings.Contains(err.Error(), "EMBEDDING_DIMENSIONS") {
		t.Errorf("3072 dimensions accepted: %v", err)
	}
}

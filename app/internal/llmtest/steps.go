package llmtest

import (
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/llm"
)

// stepsRegistry is structuringRegistry plus an embed action served by a
// second OpenAI-compatible provider (the embeddings fake): the one router
// a generation step uses for its structuring call and for embedding its
// context query.
const stepsRegistry = `
providers:
  openai:
    kind: openai_compatible
    base_url: ${OPENAI_BASE_URL}
    api_key_env: OPENAI_API_KEY
  embedder:
    kind: openai_compatible
    base_url: ${EMBED_BASE_URL}
    api_key_env: EMBED_API_KEY
models:
  model-a:
    provider: openai
    provider_model: model-a
    capabilities: [structured_output]
    structured_output: json_schema
    cost: {unit: tokens, in_per_1k: 0.001, out_per_1k: 0.002}
  embed-small:
    provider: embedder
    provider_model: text-embedding-3-small
    capabilities: [embedding]
    dimensions: 1536
    cost: {unit: tokens, in_per_1k: 0.00002}
actions:
  course_structuring: {requires: [structured_output], chains: {default: [model-a]}}
  embed: {requires: [embedding], chains: {default: [embed-small]}}
`

// StepsRouter returns a router serving course_structuring from the chat
// fake at chatURL (as StructuringRouter) and embed (provider model
// text-embedding-3-small) from the embeddings fake at embedURL (with
// /v1), audited to rec.
func StepsRouter(tb testing.TB, chatURL, embedURL string, rec course.CallRecorder) *llm.Router {
	tb.Helper()
	return router(tb, stepsRegistry, map[string]string{"OPENAI_BASE_URL": chatURL, "OPENAI_API_KEY": "sk-test",
		"EMBED_BASE_URL": embedURL, "EMBED_API_KEY": "sk-embed"}, rec)
}

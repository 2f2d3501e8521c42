// Package llmtest builds real LLM routers for tests of the packages that
// call external AI models through one (ingest, jobs, api): the registry
// points at a local fake server speaking the vendor's wire format, and
// nothing else about the router is faked.
package llmtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/llm"
)

// registry has one OpenAI-compatible provider serving transcription
// (whisper-1), vision (vision-chat) and embeddings (embed-small, provider
// model text-embedding-3-small).
const registry = `
providers:
  openai:
    kind: openai_compatible
    base_url: ${OPENAI_BASE_URL}
    api_key_env: OPENAI_API_KEY
models:
  whisper-1:
    provider: openai
    provider_model: whisper-1
    capabilities: [transcription]
    cost: {unit: seconds, per_minute: 0.006}
  vision-chat:
    provider: openai
    provider_model: vision-model
    capabilities: [vision]
    cost: {unit: tokens, in_per_1k: 0.00015, out_per_1k: 0.0006}
  embed-small:
    provider: openai
    provider_model: text-embedding-3-small
    capabilities: [embedding]
    dimensions: 1536
    cost: {unit: tokens, in_per_1k: 0.00002}
actions:
  embed: {requires: [embedding], chains: {default: [embed-small]}}
  transcribe: {requires: [transcription], chains: {default: [whisper-1]}}
  presentation_analysis: {requires: [vision], chains: {default: [vision-chat]}}
`

// Recorder keeps audit rows in memory; use postgres.CallStore where the
// rows themselves are asserted.
type Recorder struct {
	mu   sync.Mutex
	Rows []course.ExternalCall
}

// RecordCall implements course.CallRecorder.
func (r *Recorder) RecordCall(_ context.Context, c *course.ExternalCall) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Rows = append(r.Rows, *c)
	return nil
}

// Calls returns a copy of the recorded rows.
func (r *Recorder) Calls() []course.ExternalCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]course.ExternalCall(nil), r.Rows...)
}

// Router returns a router whose "openai" provider is baseURL (with the
// API version path, e.g. fake.URL+"/v1") and apiKey. rec nil = in memory.
// Retries wait 1 ms so tests stay fast.
func Router(tb testing.TB, baseURL, apiKey string, rec course.CallRecorder) *llm.Router {
	tb.Helper()
	vars := map[string]string{"OPENAI_BASE_URL": baseURL, "OPENAI_API_KEY": apiKey}
	reg, err := llm.LoadRegistry([]byte(registry), func(n string) (string, bool) { v, ok := vars[n]; return v, ok })
	if err != nil {
		tb.Fatal(err)
	}
	if rec == nil {
		rec = &Recorder{}
	}
	r, err := llm.New(llm.Options{Registry: reg, Recorder: rec, RequestTimeout: 30 * time.Second,
		Backoff: []time.Duration{time.Millisecond}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

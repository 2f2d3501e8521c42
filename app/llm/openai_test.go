package llm

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

const oneProviderRegistry = `
providers:
  oa: {kind: openai_compatible, base_url: "${OA_URL}", api_key_env: OA_KEY}
models:
  vendor-chat:
    provider: oa
    provider_model: vendor-model-x
    capabilities: [structured_output, vision]
    structured_output: ${MODE:-json_schema}
    max_output_tokens: 1000
    cost: {unit: tokens, in_per_1k: 0.001, out_per_1k: 0.002}
  vendor-whisper:
    provider: oa
    provider_model: whisper-large
    capabilities: [transcription]
    cost: {unit: seconds, per_minute: 0.006}
  vendor-embed:
    provider: oa
    provider_model: embed-small
    capabilities: [embedding]
    dimensions: 1536
    cost: {unit: tokens, in_per_1k: 0.00002}
actions:
  course_structuring: {requires: [structured_output], chains: {default: [vendor-chat]}}
  presentation_analysis: {requires: [vision], chains: {default: [vendor-chat]}}
  transcribe: {requires: [transcription], chains: {default: [vendor-whisper]}}
  embed: {requires: [embedding], chains: {default: [vendor-embed]}}
`

// testRouter builds a router over one fake vendor with in-memory audit.
func testRouter(t *testing.T, text string, vars map[string]string, tune ...func(*Options)) (*Router, *memRecorder, *sleeps) {
	t.Helper()
	rec, sl := &memRecorder{}, &sleeps{}
	o := Options{Registry: mustRegistry(t, text, vars), Recorder: rec, Sleep: sl.sleep, RequestTimeout: 5 * time.Second}
	for _, f := range tune {
		f(&o)
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r, rec, sl
}

func structuringRequest() course.CompletionRequest {
	temp := 0.2
	return course.CompletionRequest{
		System: "You are a course architect.", Temperature: &temp, SchemaName: "course_structure",
		Schema:   CourseStructureSchema(),
		Check:    CheckCourseStructure,
		Messages: []course.LLMMessage{{Role: "user", Parts: []course.LLMPart{{Text: "Materials: ..."}}}},
	}
}

// Ensure each structured-output mode reaches the OpenAI wire format as the
// spec says, the provider model name (not the registry id) is sent with
// the bearer key, and a fenced reply is parsed and audited with its cost.
func TestOpenAIStructuredModes(t *testing.T) {
	for _, mode := range []string{ModeJSONSchema, ModeJSONObject, ModePrompt} {
		t.Run(mode, func(t *testing.T) {
			f := mustFake(t, answer{Status: 200, Body: chatOK("```json\n"+validOutline+"\n```", 1200, 300)})
			r, rec, _ := testRouter(t, oneProviderRegistry, map[string]string{"OA_URL": f.URL + "/v1", "OA_KEY": "sk-oa", "MODE": mode})
			out, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionCourseStructuring, PromptRef: "v1_free"}, structuringRequest())
			if err != nil {
				t.Fatal(err)
			}
			if string(out.JSON) != validOutline {
				t.Fatalf("parsed reply %s", out.JSON)
			}
			reqs := f.requests()
			if len(reqs) != 1 || reqs[0].Path != "/v1/chat/completions" || reqs[0].Header.Get("Authorization") != "Bearer sk-oa" {
				t.Fatalf("request %+v", reqs)
			}
			body := reqs[0].Body
			if body["model"] != "vendor-model-x" || body["max_tokens"] != 1000.0 || body["temperature"] != 0.2 {
				t.Fatalf("body %s", reqs[0].Raw)
			}
			system := body["messages"].([]any)[0].(map[string]any)
			if system["role"] != "system" {
				t.Fatalf("first message %v", system)
			}
			schemaInSystem := strings.Contains(system["content"].(string), `"CourseStructure"`)
			rf, _ := body["response_format"].(map[string]any)
			switch mode {
			case ModeJSONSchema:
				js := rf["json_schema"].(map[string]any)
				if rf["type"] != "json_schema" || js["name"] != "course_structure" || js["schema"].(map[string]any)["title"] != "CourseStructure" || schemaInSystem {
					t.Fatalf("json_schema mode: %s", reqs[0].Raw)
				}
			case ModeJSONObject:
				if rf["type"] != "json_object" || !schemaInSystem {
					t.Fatalf("json_object mode: %s", reqs[0].Raw)
				}
			case ModePrompt:
				if rf != nil || !schemaInSystem {
					t.Fatalf("prompt mode: %s", reqs[0].Raw)
				}
			}
			row := rec.rows[0]
			if !row.Success || row.ModelID != "vendor-chat" || *row.ProviderModel != "vendor-model-x" || *row.PromptRef != "v1_free" ||
				*row.UnitIn != 1200 || *row.UnitOut != 300 || *row.UnitType != "tokens" || row.Strategy != "default" {
				t.Fatalf("audit row %+v", row)
			}
			if want := 1.2*0.001 + 0.3*0.002; *row.CostUSD < want-1e-12 || *row.CostUSD > want+1e-12 || out.Usage.CallID != row.ID {
				t.Fatalf("cost %v want %v (usage %+v)", *row.CostUSD, want, out.Usage)
			}
		})
	}
}

// Ensure the spec's error classes: permanent errors are tried once,
// retryable ones twice (with the backoff or the provider's Retry-After),
// and every attempt leaves one failed audit row with its error text.
func TestOpenAIErrorClasses(t *testing.T) {
	cases := map[string]struct {
		answer    answer
		attempts  int
		permanent bool
		sleep     time.Duration
		errText   string
	}{
		"400 context length": {answer: answer{Status: 400, Body: openAIError("invalid_request_error", "context_length_exceeded",
			"This model's maximum context length is 128000 tokens")}, attempts: 1, permanent: true, errText: "HTTP 400"},
		"401 bad key":          {answer: answer{Status: 401, Body: openAIError("invalid_request_error", "invalid_api_key", "Incorrect API key")}, attempts: 1, permanent: true, errText: "HTTP 401"},
		"429 retry-after":      {answer: answer{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: openAIError("rate_limit_exceeded", "", "slow down")}, attempts: 2, sleep: 7 * time.Second, errText: "HTTP 429"},
		"429 long retry-after": {answer: answer{Status: 429, Header: map[string]string{"Retry-After": "120"}, Body: openAIError("rate_limit_exceeded", "", "slow down")}, attempts: 2, sleep: time.Second, errText: "HTTP 429"},
		"500":                  {answer: answer{Status: 500, Body: openAIError("server_error", "", "boom")}, attempts: 2, sleep: time.Second, errText: "HTTP 500"},
		"529 overloaded":       {answer: answer{Status: 529, Body: openAIError("overloaded", "", "overloaded")}, attempts: 2, sleep: time.Second, errText: "HTTP 529"},
		"empty reply":          {answer: answer{Status: 200, Body: chatOK("", 10, 0)}, attempts: 2, sleep: time.Second, errText: "empty reply"},
		"schema-invalid":       {answer: answer{Status: 200, Body: chatOK(`{"title":"only a title"}`, 10, 5)}, attempts: 2, sleep: time.Second, errText: "reply failed validation"},
		"not json":             {answer: answer{Status: 200, Body: chatOK("Sure! Here is the outline.", 10, 5)}, attempts: 2, sleep: time.Second, errText: "not a JSON object"},
		"timeout":              {answer: answer{Hang: true}, attempts: 2, sleep: time.Second, errText: "timed out"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := mustFake(t, tc.answer)
			r, rec, sl := testRouter(t, oneProviderRegistry, map[string]string{"OA_URL": f.URL + "/v1", "OA_KEY": "sk"},
				func(o *Options) { o.RequestTimeout = 300 * time.Millisecond })
			_, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionCourseStructuring}, structuringRequest())
			var amf *course.AllModelsFailedError
			if !errors.As(err, &amf) || amf.Permanent != tc.permanent || amf.Attempts != tc.attempts {
				t.Fatalf("error %v, want AllModelsFailed permanent=%v after %d attempts", err, tc.permanent, tc.attempts)
			}
			if len(f.requests()) != tc.attempts || len(rec.rows) != tc.attempts {
				t.Fatalf("%d requests, %d audit rows; want %d", len(f.requests()), len(rec.rows), tc.attempts)
			}
			for _, row := range rec.rows {
				if row.Success || row.ErrorMessage == nil || !strings.Contains(*row.ErrorMessage, tc.errText) || row.LatencyMS == nil {
					t.Fatalf("audit row %+v, want a failure mentioning %q", row, tc.errText)
				}
			}
			if tc.attempts == 2 && (len(sl.d) != 1 || sl.d[0] != tc.sleep) {
				t.Fatalf("waits %v, want [%v]", sl.d, tc.sleep)
			}
		})
	}
}

// Ensure a vision message carries its image as an image_url content part.
func TestOpenAIVisionParts(t *testing.T) {
	f := mustFake(t, answer{Status: 200, Body: chatOK("A slide with a bar chart.", 900, 20)})
	r, _, _ := testRouter(t, oneProviderRegistry, map[string]string{"OA_URL": f.URL, "OA_KEY": "k"})
	out, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionPresentationAnalysis}, course.CompletionRequest{
		System: "Describe.", Messages: []course.LLMMessage{{Role: "user", Parts: []course.LLMPart{
			{Text: "Describe slide 1."}, {ImageURL: "data:image/png;base64,iVBORw0KGgo="}}}},
	})
	if err != nil || out.Text != "A slide with a bar chart." {
		t.Fatalf("%v %+v", err, out)
	}
	content := f.requests()[0].Body["messages"].([]any)[1].(map[string]any)["content"].([]any)
	img := content[1].(map[string]any)
	if img["type"] != "image_url" || img["image_url"].(map[string]any)["url"] != "data:image/png;base64,iVBORw0KGgo=" {
		t.Fatalf("content %v", content)
	}
}

// Ensure transcription sends the verbose_json multipart form with segment
// timestamps and is audited in seconds at the per-minute price.
func TestOpenAITranscription(t *testing.T) {
	f := mustFake(t, answer{Status: 200, Body: `{"task":"transcribe","language":"english","duration":90.2,"text":"Hello. World.",
		"segments":[{"id":0,"seek":0,"start":0.0,"end":4.5,"text":" Hello.","tokens":[],"temperature":0,"avg_logprob":0,"compression_ratio":0,"no_speech_prob":0},
		{"id":1,"seek":0,"start":4.5,"end":9.0,"text":" World.","tokens":[],"temperature":0,"avg_logprob":0,"compression_ratio":0,"no_speech_prob":0}]}`})
	r, rec, _ := testRouter(t, oneProviderRegistry, map[string]string{"OA_URL": f.URL + "/v1", "OA_KEY": "k"})
	audio := filepath.Join(t.TempDir(), "a.mp3")
	if err := os.WriteFile(audio, []byte("ID3 fake mp3"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := r.Transcribe(context.Background(), course.LLMCall{Action: course.ActionTranscribe}, course.TranscriptionRequest{Path: audio, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Segments) != 2 || out.Segments[1].Start != 4.5 || out.Segments[1].Text != " World." {
		t.Fatalf("segments %+v", out.Segments)
	}
	raw := string(f.requests()[0].Raw)
	for _, want := range []string{`name="model"` + "\r\n\r\nwhisper-large", `name="response_format"` + "\r\n\r\nverbose_json",
		`name="timestamp_granularities[]"` + "\r\n\r\nsegment", `name="language"` + "\r\n\r\nen", `filename="a.mp3"`} {
		if !strings.Contains(raw, want) {
			t.Fatalf("form lacks %q:\n%s", want, raw)
		}
	}
	row := rec.rows[0]
	if *row.UnitType != "seconds" || *row.UnitIn != 91 || *row.CostUSD != 91.0/60*0.006 {
		t.Fatalf("audit %+v cost %v", row, *row.CostUSD)
	}
}

// Ensure embeddings request the model's dimensions and return vectors in
// input order.
func TestOpenAIEmbeddings(t *testing.T) {
	vec := func(x float64) []float64 {
		v := make([]float64, 1536)
		v[0] = x
		return v
	}
	body, _ := json.Marshal(map[string]any{"object": "list", "model": "embed-small", "usage": map[string]any{"prompt_tokens": 12, "total_tokens": 12},
		"data": []any{map[string]any{"object": "embedding", "index": 1, "embedding": vec(2)}, map[string]any{"object": "embedding", "index": 0, "embedding": vec(1)}}})
	f := mustFake(t, answer{Status: 200, Body: string(body)})
	r, rec, _ := testRouter(t, oneProviderRegistry, map[string]string{"OA_URL": f.URL, "OA_KEY": "k"})
	out, err := r.Embed(context.Background(), course.LLMCall{Action: course.ActionEmbed}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Vectors[0][0] != 1 || out.Vectors[1][0] != 2 {
		t.Fatalf("order %v %v", out.Vectors[0][0], out.Vectors[1][0])
	}
	b := f.requests()[0].Body
	if f.requests()[0].Path != "/embeddings" || b["model"] != "embed-small" || b["dimensions"] != 1536.0 || len(b["input"].([]any)) != 2 {
		t.Fatalf("body %s", f.requests()[0].Raw)
	}
	if *rec.rows[0].UnitIn != 12 {
		t.Fatalf("units %v", *rec.rows[0].UnitIn)
	}
}

// Ensure a key-optional local provider sends no Authorization header, and
// the process's OPENAI_API_KEY never leaks to any provider (the SDK's
// environment defaults are not used).
func TestOpenAIKeyNeverLeaks(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-process-env")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/never")
	f := mustFake(t, answer{Status: 200, Body: chatOK("hi", 1, 1)})
	r, _, _ := testRouter(t, `
providers:
  local: {kind: openai_compatible, base_url: "${LOCAL_URL}", api_key_env: LOCAL_KEY, api_key_optional: true}
models:
  local-chat: {provider: local, provider_model: llama, capabilities: []}
actions:
  text_processing: {requires: [], chains: {default: [local-chat]}}
`, map[string]string{"LOCAL_URL": f.URL + "/v1"})
	if _, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionTextProcessing}, course.CompletionRequest{
		Messages: []course.LLMMessage{{Role: "user", Parts: []course.LLMPart{{Text: "hi"}}}}}); err != nil {
		t.Fatal(err)
	}
	if h := f.requests()[0].Header.Get("Authorization"); h != "" {
		t.Fatalf("Authorization %q sent to a keyless provider", h)
	}
}

package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/llm"
)

// structuringRegistry has one OpenAI-compatible provider with two
// structuring models, model-a then model-b, in the default chain.
const structuringRegistry = `
providers:
  openai:
    kind: openai_compatible
    base_url: ${OPENAI_BASE_URL}
    api_key_env: OPENAI_API_KEY
models:
  model-a:
    provider: openai
    provider_model: model-a
    capabilities: [structured_output]
    structured_output: json_schema
    cost: {unit: tokens, in_per_1k: 0.001, out_per_1k: 0.002}
  model-b:
    provider: openai
    provider_model: model-b
    capabilities: [structured_output]
    structured_output: json_schema
    cost: {unit: tokens, in_per_1k: 0.001, out_per_1k: 0.002}
actions:
  course_structuring: {requires: [structured_output], chains: {default: [model-a, model-b]}}
`

// StructuringRouter returns a router whose course_structuring chain is
// model-a, model-b on the OpenAI-compatible server at baseURL, one
// attempt per model, audited to rec.
func StructuringRouter(tb testing.TB, baseURL string, rec course.CallRecorder) *llm.Router {
	tb.Helper()
	return router(tb, structuringRegistry, map[string]string{"OPENAI_BASE_URL": baseURL, "OPENAI_API_KEY": "sk-test"}, rec)
}

// router builds a Router over a test registry whose ${VARS} come from
// vars: one attempt per model, a 1 ms backoff, audited to rec (a
// Recorder when nil).
func router(tb testing.TB, registry string, vars map[string]string, rec course.CallRecorder) *llm.Router {
	tb.Helper()
	reg, err := llm.LoadRegistry([]byte(registry), func(n string) (string, bool) { v, ok := vars[n]; return v, ok })
	if err != nil {
		tb.Fatal(err)
	}
	if rec == nil {
		rec = &Recorder{}
	}
	r, err := llm.New(llm.Options{Registry: reg, Recorder: rec, RequestTimeout: 30 * time.Second, AttemptsPerModel: 1,
		Backoff: []time.Duration{time.Millisecond}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// ChatRequest is one chat-completions request the fake received.
type ChatRequest struct {
	Model  string
	System string
	User   string
	Node   string // the "Node: <title>" line of the prompt
	At     time.Time
}

// Reply is what the fake answers: a status and the assistant content.
type Reply struct {
	Status  int
	Content string
}

// Chat is a fake OpenAI chat-completions server for structuring calls.
// By default it answers a valid CourseStructure for the prompt's node
// (title "Outline of <node>", summary "Summary of <node>"); SetAnswer
// overrides that per request.
type Chat struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []ChatRequest
	answer func(ChatRequest) Reply
}

// SetAnswer replaces the default answer (nil restores it).
func (c *Chat) SetAnswer(f func(ChatRequest) Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer = f
}

// NewChat starts the fake; it stops with the test.
func NewChat(tb testing.TB) *Chat {
	c := &Chat{}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	tb.Cleanup(c.Close)
	return c
}

// Requests returns a copy of the requests received so far.
func (c *Chat) Requests() []ChatRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ChatRequest(nil), c.reqs...)
}

// Reset forgets the requests received so far.
func (c *Chat) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = nil
}

func (c *Chat) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(raw, &body)
	req := ChatRequest{Model: body.Model, At: time.Now()}
	for _, m := range body.Messages {
		text := contentText(m.Content)
		switch m.Role {
		case "system", "developer":
			req.System += text
		case "user":
			req.User += text
		}
	}
	if line, _, _ := strings.Cut(req.User, "\n"); strings.HasPrefix(line, "Node: ") {
		req.Node = strings.TrimPrefix(line, "Node: ")
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	answer := c.answer
	c.mu.Unlock()
	rep := Reply{Status: http.StatusOK, Content: StructureFor(req.Node)}
	if answer != nil {
		rep = answer(req)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.Status)
	if rep.Status != http.StatusOK {
		_, _ = w.Write([]byte(`{"error":{"message":"rejected","type":"invalid_request_error","code":null,"param":null}}`))
		return
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": rep.Content}}},
		"usage": map[string]any{"prompt_tokens": len(raw) / 4, "completion_tokens": len(rep.Content) / 4,
			"total_tokens": len(raw)/4 + len(rep.Content)/4},
	})
	_, _ = w.Write(b)
}

// contentText reads a message content: a string or a list of text parts.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// StructureFor is the fake's default answer for a node title: one module
// with one lesson, a concept and an exercise, and a correction.
func StructureFor(node string) string {
	s := course.Structure{
		Title: "Outline of " + node, Summary: "Summary of " + node,
		Modules: []course.Module{{Title: "Module of " + node, Difficulty: "easy", ExpectedSkills: []string{"skill"},
			Lessons: []course.Lesson{{Title: "Lesson of " + node, VideoStartTimecode: "00:10", VideoEndTimecode: "01:00",
				SlideRange: &course.SlideRange{Start: 1, End: 2},
				Concepts: []course.Concept{{Title: "Concept of " + node, Definition: "definition", Timecodes: []string{"00:20"},
					SlideReferences: []int{1}}},
				Exercises: []course.Exercise{{Description: "Exercise on " + node, GradingCriteria: "correct", DifficultyLevel: 3}}}}}},
		CoreConcepts: []string{"Core " + node}, MentionedConcepts: []string{"Mentioned " + node},
		Corrections: []course.Correction{{TargetNodeID: "", Field: "title", Action: "rename", OldValue: "a", NewValue: "b", Reason: "consistency"}},
	}
	b, _ := json.Marshal(s)
	return string(b)
}

package llm

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// captured is one request a fake vendor server received.
type captured struct {
	Path   string
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// answer is one scripted reply: a status, headers and a body; Delay
// holds the reply back (timeouts) until the request is cancelled.
type answer struct {
	Status int
	Header map[string]string
	Body   string
	Hang   bool
}

// fakeVendor is an httptest server that records requests and plays back
// scripted answers in order (the last one repeats).
type fakeVendor struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []captured
	answers []answer
	arrived chan struct{}
}

func mustFake(t *testing.T, answers ...answer) *fakeVendor {
	t.Helper()
	f := &fakeVendor{answers: answers, arrived: make(chan struct{}, 64)}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVendor) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c := captured{Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &c.Body)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, c)
	a := f.answers[min(len(f.reqs)-1, len(f.answers)-1)]
	f.mu.Unlock()
	f.arrived <- struct{}{}
	if a.Hang {
		<-r.Context().Done()
		return
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, a.Body)
}

func (f *fakeVendor) requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.reqs...)
}

// memRecorder keeps audit rows in memory for unit tests of providers;
// the chain walk is asserted against PostgreSQL (router_pg_test.go).
type memRecorder struct {
	mu   sync.Mutex
	rows []course.ExternalCall
}

func (m *memRecorder) RecordCall(_ context.Context, c *course.ExternalCall) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, *c)
	return nil
}

// sleeps records the router's waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// mustRegistry loads a registry from YAML text with vars as the
// environment (every other name reads as set but empty).
func mustRegistry(t *testing.T, text string, vars map[string]string) *Registry {
	t.Helper()
	reg, err := LoadRegistry([]byte(text), func(name string) (string, bool) { return vars[name], true })
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// Wire-format bodies of the vendors.
func chatOK(content string, in, out int) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
		"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
	})
	return string(b)
}

func openAIError(typ, code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code, "param": nil}})
	return string(b)
}

func anthropicOK(blocks []map[string]any, in, out int) string {
	b, _ := json.Marshal(map[string]any{
		"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": blocks,
		"stop_reason": "end_turn", "usage": map[string]any{"input_tokens": in, "output_tokens": out},
	})
	return string(b)
}

func anthropicError(typ, msg string) string {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
	return string(b)
}

// validOutline is a minimal CourseStructure that passes validation.
const validOutline = `{"title":"T","modules":[{"title":"M","lessons":[{"title":"L"}]}],` +
	`"summary":"S.","core_concepts":["a"],"mentioned_concepts":["b"]}`

func jsonObj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

package llm

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure the failure ratio covers exactly the last 15 minutes and stays 0
// below the minimum number of attempts.
func TestFailureWindow(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w := &failureWindow{now: func() time.Time { return now }}
	for range 3 {
		w.add(true)
	}
	if w.ratio() != 0 {
		t.Fatal("3 attempts must not raise the ratio")
	}
	now = now.Add(10 * time.Minute)
	w.add(false)
	w.add(false)
	if r := w.ratio(); r != 0.6 {
		t.Fatalf("ratio %v, want 3/5", r)
	}
	now = now.Add(6 * time.Minute) // the three failures are now 16 minutes old
	for range 3 {
		w.add(false)
	}
	if r := w.ratio(); r != 0 {
		t.Fatalf("ratio %v, want 0 (old failures dropped)", r)
	}
}

// Ensure an attempt moves the calls counter with its outcome, the cost
// counter by its cost, and the latency histogram.
func TestRouterMetrics(t *testing.T) {
	f := mustFake(t, answer{Status: 500, Body: openAIError("server_error", "", "x")}, answer{Status: 200, Body: chatOK("ok", 1000, 1000)})
	reg := prometheus.NewRegistry()
	r, _, _ := testRouter(t, oneProviderRegistry, map[string]string{"OA_URL": f.URL, "OA_KEY": "k"},
		func(o *Options) { o.Metrics = NewMetrics(reg) })
	if _, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionPresentationAnalysis}, course.CompletionRequest{
		Messages: []course.LLMMessage{{Role: "user", Parts: []course.LLMPart{{Text: "x"}}}}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"cs_llm_calls_total,presentation_analysis,vendor-chat,retryable,oa": 1,
		"cs_llm_calls_total,presentation_analysis,vendor-chat,success,oa":   1,
		"cs_llm_cost_usd_total,presentation_analysis,vendor-chat,oa":        0.003,
		"cs_llm_call_duration_seconds,presentation_analysis,vendor-chat,oa": 2,
	}
	for k, v := range want {
		if d := got[k] - v; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

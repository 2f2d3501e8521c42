package llm

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/course"
)

// Metrics are the router's Prometheus series (docs/design/llm.md,
// "Metrics"); the netdata alarm llm_failure_ratio reads the calls counter.
// A nil *Metrics records nothing.
type Metrics struct {
	calls   *prometheus.CounterVec
	cost    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	window  *failureWindow
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{window: &failureWindow{now: time.Now},
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cs_llm_calls_total",
			Help: "Attempts of external AI calls by action, provider, model id and outcome (success, retryable, permanent, cancelled).",
		}, []string{"action", "provider", "model", "outcome"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cs_llm_cost_usd_total", Help: "Cost in USD of external AI calls with a known price.",
		}, []string{"action", "provider", "model"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cs_llm_call_duration_seconds", Help: "Latency of external AI call attempts.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"action", "provider", "model"}),
	}
	ratio := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cs_llm_failure_ratio_15m",
		Help: "Failed share of external AI call attempts in the last 15 minutes (0 below 5 attempts); alarm llm_failure_ratio.",
	}, m.window.ratio)
	reg.MustRegister(m.calls, m.cost, m.latency, ratio)
	return m
}

func (m *Metrics) observe(row *course.ExternalCall, outcome string, latency time.Duration) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(row.Action, row.Provider, row.ModelID, outcome).Inc()
	if outcome != "cancelled" {
		m.window.add(outcome != "success")
	}
	m.latency.WithLabelValues(row.Action, row.Provider, row.ModelID).Observe(latency.Seconds())
	if row.CostUSD != nil {
		m.cost.WithLabelValues(row.Action, row.Provider, row.ModelID).Add(*row.CostUSD)
	}
}

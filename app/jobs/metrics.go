package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the job counters of the runbook (docs/operations/index.md,
// "Monitoring and alerts"). A nil *Metrics
// records nothing, so tests need not build one.
type Metrics struct {
	Finished *prometheus.CounterVec
	Duration *prometheus.HistogramVec
}

// NewMetrics registers the job metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cs_jobs_finished_total", Help: "Jobs that reached a final status, by type and status.",
		}, []string{"type", "status"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cs_job_duration_seconds", Help: "Duration of job attempts, by type.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600},
		}, []string{"type"}),
	}
	reg.MustRegister(m.Finished, m.Duration)
	return m
}

func (m *Metrics) finished(kind, status string) {
	if m != nil {
		m.Finished.WithLabelValues(kind, status).Inc()
	}
}

func (m *Metrics) duration(kind string, d time.Duration) {
	if m != nil {
		m.Duration.WithLabelValues(kind).Observe(d.Seconds())
	}
}

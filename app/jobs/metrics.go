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
	// Maintenance: what the orphan sweep and housekeeping removed, and
	// the steps of the sweep that failed (docs/operations/index.md).
	OrphansDeleted   prometheus.Counter
	MultipartAborted prometheus.Counter
	SweepFailures    *prometheus.CounterVec
	Housekeeping     *prometheus.CounterVec
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
		OrphansDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cs_storage_orphans_deleted_total", Help: "Objects under tenants/ deleted by the orphan sweep (no material row, older than the grace).",
		}),
		MultipartAborted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cs_multipart_uploads_aborted_total", Help: "Abandoned multipart uploads aborted by the orphan sweep.",
		}),
		SweepFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cs_storage_sweep_failures_total", Help: "Failed steps of the orphan sweep, by step (list, references, delete, abort).",
		}, []string{"step"}),
		Housekeeping: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cs_housekeeping_deleted_total", Help: "Rows deleted by housekeeping, by table.",
		}, []string{"what"}),
	}
	reg.MustRegister(m.Finished, m.Duration, m.OrphansDeleted, m.MultipartAborted, m.SweepFailures, m.Housekeeping)
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

func (m *Metrics) orphansDeleted(n int) {
	if m != nil {
		m.OrphansDeleted.Add(float64(n))
	}
}

func (m *Metrics) multipartAborted(n int) {
	if m != nil {
		m.MultipartAborted.Add(float64(n))
	}
}

func (m *Metrics) sweepFailed(step string) {
	if m != nil {
		m.SweepFailures.WithLabelValues(step).Inc()
	}
}

func (m *Metrics) housekept(what string, n int64) {
	if m != nil {
		m.Housekeeping.WithLabelValues(what).Add(float64(n))
	}
}

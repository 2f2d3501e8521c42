package postgres

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector reports the River queue from its table at scrape time:
// jobs by kind and state, and the backlog (jobs waiting to run) by kind.
// Reading the table keeps the numbers right across every process.
type queueCollector struct {
	db            *DB
	byState, wait *prometheus.Desc
}

// QueueCollector returns the Prometheus collector of the job queue.
func (db *DB) QueueCollector() prometheus.Collector {
	return &queueCollector{
		db:      db,
		byState: prometheus.NewDesc("cs_jobs", "Jobs in the queue table by kind and state.", []string{"kind", "state"}, nil),
		wait:    prometheus.NewDesc("cs_jobs_queued", "Jobs waiting to run (available, scheduled or retryable) by kind.", []string{"type"}, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byState
	ch <- c.wait
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.db.Pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY 1, 2`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.byState, err)
		return
	}
	defer rows.Close()
	waiting := map[string]float64{}
	for rows.Next() {
		var kind, state string
		var n int64
		if err := rows.Scan(&kind, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(c.byState, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.byState, prometheus.GaugeValue, float64(n), kind, state)
		switch state {
		case "available", "scheduled", "retryable":
			waiting[kind] += float64(n)
		default:
			waiting[kind] += 0
		}
	}
	for kind, n := range waiting {
		ch <- prometheus.MustNewConstMetric(c.wait, prometheus.GaugeValue, n, kind)
	}
}

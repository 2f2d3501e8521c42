package postgres

import "github.com/prometheus/client_golang/prometheus"

// poolCollector exports the pgx pool statistics, so pool exhaustion shows
// on the dashboards before it shows as latency.
type poolCollector struct {
	db                               *DB
	total, idle, acquired, max, wait *prometheus.Desc
	acquires, waitSeconds            *prometheus.Desc
}

// Collector returns a Prometheus collector of the pool's statistics.
func (db *DB) Collector() prometheus.Collector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &poolCollector{
		db:          db,
		total:       d("cs_db_pool_connections", "Open connections in the pool."),
		idle:        d("cs_db_pool_idle_connections", "Idle connections in the pool."),
		acquired:    d("cs_db_pool_acquired_connections", "Connections in use."),
		max:         d("cs_db_pool_max_connections", "Pool size limit."),
		wait:        d("cs_db_pool_empty_acquire_total", "Acquires that had to wait for a connection."),
		acquires:    d("cs_db_pool_acquire_total", "Connection acquires."),
		waitSeconds: d("cs_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.max, c.wait, c.acquires, c.waitSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.db.Pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, st.AcquireDuration().Seconds())
}

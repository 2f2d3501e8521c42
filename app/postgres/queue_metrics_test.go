package postgres_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

// Ensure the queue collector reports jobs by kind and state and the backlog.
func TestQueueCollector(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, metadata, priority)
		VALUES ('{}', 'storage_cleanup', 25, 'maintenance', 'available', '{}', 1),
		       ('{}', 'storage_cleanup', 25, 'maintenance', 'retryable', '{}', 1),
		       ('{}', 'storage_cleanup', 25, 'maintenance', 'available', '{}', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = (SELECT max(id) FROM river_job)`); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(db.QueueCollector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetValue()
			}
			got[key] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"cs_jobs_queued,storage_cleanup":    2,
		"cs_jobs,storage_cleanup,available": 1,
		"cs_jobs,storage_cleanup,retryable": 1,
		"cs_jobs,storage_cleanup,completed": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

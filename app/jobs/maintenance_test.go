package jobs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// Ensure the sweep and housekeeping are registered as River periodic jobs
// (inserted by the elected leader only), on the maintenance queue, never
// retried (a failed pass waits for the next period), and that the sweep's
// clock is the heavy-work window's zone.
func TestMaintenanceJobsArePeriodic(t *testing.T) {
	opts := jobsconf.Defaults(t.TempDir())
	db := openDB(t) // the client is built, never started
	with := func(deps jobs.Deps) *jobs.Runner {
		r, err := jobs.NewRunner(db.SQL, db.Pool, deps, opts)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := with(jobs.Deps{Maintenance: &jobs.MaintenanceDeps{}})
	for _, id := range []string{"storage_orphan_sweep", "housekeeping"} {
		if !jobs.HasPeriodic(r, id) {
			t.Errorf("%s is not a periodic job", id)
		}
	}
	if jobs.HasPeriodic(with(jobs.Deps{}), "housekeeping") {
		t.Error("periodic without its dependencies")
	}
	// The sweep has a queue of its own, so an hour-long sweep never holds
	// the reaper, cleanups and backfill of the maintenance queue.
	for kind, want := range map[string]struct {
		io    river.InsertOpts
		queue string
	}{
		jobs.OrphanSweepArgs{}.Kind():  {jobs.OrphanSweepArgs{}.InsertOpts(), jobs.QueueSweep},
		jobs.HousekeepingArgs{}.Kind(): {jobs.HousekeepingArgs{}.InsertOpts(), jobs.QueueMaintenance},
	} {
		if want.io.MaxAttempts != 1 || want.io.Queue != want.queue {
			t.Errorf("%s: %+v, want queue %s", kind, want.io, want.queue)
		}
	}
	if n := jobs.QueueWorkers(r, jobs.QueueSweep); n != 1 {
		t.Errorf("sweep queue runs %d at a time, want 1", n)
	}
	w := config.DefaultWorker()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	w.HeavyWindow.Location = berlin
	if m := jobsconf.Maintenance(w); m.SweepLoc != berlin || m.SweepAt != 3*time.Hour+30*time.Minute || m.OrphanGrace != 24*time.Hour {
		t.Errorf("sweep schedule %+v", m)
	}
}

// Ensure, with a real River client on a real database, that housekeeping
// runs on the leader at start (a periodic job with RunOnStart) and deletes
// only stale rate-limit rows and heartbeats, and that River's cleaner
// applies the configured retention (completed 24 h, cancelled and
// discarded 7 days; River's own default would drop a cancelled job after
// 24 h) while business jobs rows stay.
func TestHousekeepingAndRiverRetention(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	finished := func(state, age string) int64 {
		t.Helper()
		var id int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, finalized_at)
			VALUES ('{}', 'old_work', 1, 'maintenance', $1, 1, now() - $2::interval, now() - $2::interval) RETURNING id`,
			state, age).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	gone := map[int64]string{finished("completed", "25 hours"): "completed 25h", finished("cancelled", "8 days"): "cancelled 8d",
		finished("discarded", "8 days"): "discarded 8d"}
	stay := map[int64]string{finished("completed", "23 hours"): "completed 23h", finished("cancelled", "2 days"): "cancelled 2d",
		finished("discarded", "6 days"): "discarded 6d"}
	var oldID int64
	for id, what := range gone {
		if what == "completed 25h" {
			oldID = id
		}
	}
	exec(`INSERT INTO jobs (id, job_type, status, max_attempts, queue_job_id, completed_at)
		VALUES (gen_random_uuid(), 'ingest', 'complete', 3, $1, now() - interval '25 hours')`, oldID)
	exec(`INSERT INTO rate_limit_windows (tenant_id, scope, sec, total, slots) VALUES
		(gen_random_uuid(), 'prep', floor(extract(epoch FROM now()))::bigint - 7200, 0, array_fill(0, ARRAY[61])),
		(gen_random_uuid(), 'prep', floor(extract(epoch FROM now()))::bigint - 30, 1, array_fill(0, ARRAY[61]))`)
	exec(`INSERT INTO worker_heartbeats (worker_id, hostname, pid, version, queues, started_at, last_seen_at) VALUES
		('gone', 'h', 1, 'v', '{}', now() - interval '3 days', now() - interval '2 days'),
		('alive', 'h', 2, 'v', '{}', now() - interval '3 days', now() - interval '20 hours')`)

	fake := s3test.MustStart(t, "bucket")
	store := objstore.New(objstore.Options{Endpoint: fake.URL, Region: s3test.Region, AccessKey: s3test.AccessKey,
		SecretKey: s3test.SecretKey, Bucket: fake.Bucket, ForcePathStyle: true})
	metrics := jobs.NewMetrics(prometheus.NewRegistry())
	r, err := jobs.NewRunner(db.SQL, db.Pool, jobs.Deps{Store: store, Metrics: metrics, Log: slog.New(slog.DiscardHandler),
		Maintenance: &jobs.MaintenanceDeps{Objects: store, Refs: db, Housekeeper: db}}, jobsconf.Defaults(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ids := func(m map[int64]string) []int64 {
		var out []int64
		for id := range m {
			out = append(out, id)
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for count(`SELECT count(*) FROM river_job WHERE kind = 'housekeeping' AND state = 'completed'`) == 0 ||
		count(`SELECT count(*) FROM river_job WHERE id = ANY($1)`, ids(gone)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("housekeeping ran %d times, %d expired River rows left",
				count(`SELECT count(*) FROM river_job WHERE kind = 'housekeeping' AND state = 'completed'`),
				count(`SELECT count(*) FROM river_job WHERE id = ANY($1)`, ids(gone)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := count(`SELECT count(*) FROM river_job WHERE id = ANY($1)`, ids(stay)); n != len(stay) {
		t.Errorf("River rows within retention deleted: %d of %d left", n, len(stay))
	}
	if count(`SELECT count(*) FROM jobs WHERE queue_job_id = $1`, oldID) != 1 {
		t.Error("business job row deleted")
	}
	if n := count(`SELECT count(*) FROM rate_limit_windows`); n != 1 {
		t.Errorf("rate-limit rows left: %d, want the fresh one", n)
	}
	if n := count(`SELECT count(*) FROM worker_heartbeats WHERE worker_id = 'alive'`) +
		10*count(`SELECT count(*) FROM worker_heartbeats WHERE worker_id = 'gone'`); n != 1 {
		t.Errorf("heartbeats: code %d, want only the recent one", n)
	}
	if a, b := value(metrics.Housekeeping.WithLabelValues("rate_limit_windows")), value(metrics.Housekeeping.WithLabelValues("worker_heartbeats")); a != 1 || b != 1 {
		t.Errorf("cs_housekeeping_deleted_total: rate limits %v, heartbeats %v", a, b)
	}
}

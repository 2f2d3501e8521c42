package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
)

// ReaperArgs is the periodic job_reaper (no business job row).
type ReaperArgs struct{}

// Kind implements river.JobArgs.
func (ReaperArgs) Kind() string { return "job_reaper" }

// InsertOpts runs the reaper on the maintenance queue; a failed pass is
// not retried, the next period runs anyway (passes are idempotent).
func (ReaperArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 1}
}

// Reaper is the store's crash repair.
type Reaper = course.JobReaper

// ReaperWorker runs one reaper pass.
type ReaperWorker struct {
	river.WorkerDefaults[ReaperArgs]
	Store   Reaper
	MaxWait time.Duration // JOB_MAX_WAIT
	// StaleAfter is WORKER_STALE_AFTER: a worker whose heartbeat is older
	// is dead, and its running jobs are taken back (0: never).
	StaleAfter time.Duration
	Log        *slog.Logger
}

// Work repairs and logs what it repaired. Dead workers' jobs are taken
// back first, so the same pass requeues them.
func (w *ReaperWorker) Work(ctx context.Context, _ *river.Job[ReaperArgs]) error {
	rescued := 0
	if w.StaleAfter > 0 {
		n, err := w.Store.RescueDeadWorkers(ctx, w.StaleAfter)
		if err != nil {
			return fmt.Errorf("rescue dead workers' jobs: %w", err)
		}
		rescued = n
	}
	st, err := w.Store.Reap(ctx, w.MaxWait)
	st.Rescued = rescued
	if err != nil {
		return fmt.Errorf("reap jobs: %w", err)
	}
	if st.Any() {
		w.Log.Warn("job_reaper_repaired", "logger", "jobs.job_reaper", "requeued", st.Requeued, "lost", st.Lost,
			"expired", st.Expired, "dependency_failed", st.DependencyFailed, "released", st.Released, "rescued", st.Rescued,
			"materials_fixed", st.MaterialsFixed, "mappings_revalidated", st.MappingsRevalidated)
	}
	return nil
}

// Timeout bounds one pass.
func (w *ReaperWorker) Timeout(*river.Job[ReaperArgs]) time.Duration { return 5 * time.Minute }

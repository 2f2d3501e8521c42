package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
)

// HousekeepingArgs is the hourly housekeeping (no business job row).
type HousekeepingArgs struct{}

// Kind implements river.JobArgs.
func (HousekeepingArgs) Kind() string { return "housekeeping" }

// InsertOpts runs it on the maintenance queue once per period; the next
// period repeats a failed pass.
func (HousekeepingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 1}
}

// HousekeepingWorker deletes bookkeeping rows that outlived their use.
// Finished River rows are River's own cleaner's (retention periods in
// Options.Maintenance); business jobs rows are history and stay.
type HousekeepingWorker struct {
	river.WorkerDefaults[HousekeepingArgs]
	Store course.Housekeeper
	// RateLimitIdle: rate-limit rows idle longer count nothing.
	RateLimitIdle time.Duration
	// HeartbeatMaxAge: heartbeats older belong to workers long gone.
	HeartbeatMaxAge time.Duration
	Metrics         *Metrics
	Log             *slog.Logger
}

// Work runs both deletions (one failing does not skip the other) and
// counts what each removed.
func (w *HousekeepingWorker) Work(ctx context.Context, _ *river.Job[HousekeepingArgs]) error {
	limits, errLimits := w.Store.DeleteIdleRateLimits(ctx, w.RateLimitIdle)
	beats, errBeats := w.Store.DeleteStaleHeartbeats(ctx, w.HeartbeatMaxAge)
	w.Metrics.housekept("rate_limit_windows", limits)
	w.Metrics.housekept("worker_heartbeats", beats)
	if limits > 0 || beats > 0 {
		w.Log.Info("housekeeping_deleted", "logger", "jobs.housekeeping", "rate_limit_windows", limits, "worker_heartbeats", beats)
	}
	if err := errors.Join(errLimits, errBeats); err != nil {
		return fmt.Errorf("housekeeping: %w", err)
	}
	return nil
}

// Timeout bounds one pass.
func (w *HousekeepingWorker) Timeout(*river.Job[HousekeepingArgs]) time.Duration {
	return 5 * time.Minute
}

package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// CleanupArgs deletes stored objects whose rows are already gone. Rows go
// first and objects second, through this retried job, so no row ever points
// at a deleted object and no object outlives its row for long.
type CleanupArgs struct {
	Keys []string `json:"keys"`
}

// Kind implements river.JobArgs.
func (CleanupArgs) Kind() string { return "storage_cleanup" }

// InsertOpts puts cleanups on the maintenance queue with many attempts:
// with the backoff they span well over a day of storage outage.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 25}
}

// ObjectDeleter is the part of the object store the cleanup needs.
type ObjectDeleter interface {
	Delete(ctx context.Context, keys ...string) error
}

// CleanupWorker deletes the objects of a CleanupArgs job.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Store ObjectDeleter
}

// Work deletes the keys; an error makes River retry the whole job, and
// deleting an absent key is not an error, so retries are idempotent.
func (w *CleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	if err := w.Store.Delete(ctx, job.Args.Keys...); err != nil {
		return fmt.Errorf("delete %d objects: %w", len(job.Args.Keys), err)
	}
	return nil
}

// Timeout bounds one attempt.
func (w *CleanupWorker) Timeout(*river.Job[CleanupArgs]) time.Duration { return 2 * time.Minute }

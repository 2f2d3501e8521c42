package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
)

// sweepPrefix is the only part of the bucket the sweep looks at: every
// object the service writes lies under it (docs/design/uploads-and-storage.md,
// "Object keys"); anything else in the bucket is not ours to delete.
const sweepPrefix = "tenants/"

// sweepBatch is the most keys one DeleteObjects request carries (S3's limit).
const sweepBatch = 1000

// sweepTimeout bounds one sweep: about a second per page of 1000 objects,
// so an hour covers millions of objects; a sweep cut short simply
// continues from the start the next day.
const sweepTimeout = time.Hour

// OrphanSweepArgs is the daily storage_orphan_sweep (no business job row).
type OrphanSweepArgs struct{}

// Kind implements river.JobArgs.
func (OrphanSweepArgs) Kind() string { return "storage_orphan_sweep" }

// InsertOpts runs the sweep on the maintenance queue once: a failed sweep
// is not retried (the next day's run repeats it whole), so a storage
// outage never turns it into a tight loop of listings.
func (OrphanSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSweep, MaxAttempts: 1}
}

// OrphanSweepWorker deletes the objects under tenants/ that no material
// points at and that are older than Grace, and aborts the multipart
// uploads started before Grace ago (docs/design/uploads-and-storage.md,
// "Orphan sweep").
type OrphanSweepWorker struct {
	river.WorkerDefaults[OrphanSweepArgs]
	Store course.StorageSweeper
	Refs  course.StorageReferences
	// Grace is STORAGE_ORPHAN_GRACE: nothing younger is touched (an upload
	// in progress, a presigned upload not yet confirmed, an object whose
	// row is about to commit).
	Grace   time.Duration
	Metrics *Metrics
	Log     *slog.Logger
}

// SweepResult counts what one sweep saw and did.
type SweepResult struct {
	Listed     int // objects listed under tenants/
	Young      int // younger than the grace: kept
	Referenced int // old but a material points at them: kept
	Deleted    int // orphans deleted
	Uploads    int // multipart uploads listed
	Aborted    int // multipart uploads aborted
	Failed     int // batches or aborts that failed (logged, counted, skipped)
}

// Work runs one sweep and logs what it removed.
func (w *OrphanSweepWorker) Work(ctx context.Context, _ *river.Job[OrphanSweepArgs]) error {
	res, err := w.Sweep(ctx)
	w.Log.Info("storage_orphan_sweep", "logger", "jobs.storage_orphan_sweep", "listed", res.Listed, "young", res.Young,
		"referenced", res.Referenced, "deleted", res.Deleted, "uploads", res.Uploads, "aborted", res.Aborted,
		"failed", res.Failed, "grace", w.Grace.String())
	if err != nil {
		return fmt.Errorf("orphan sweep: %w", err)
	}
	return nil
}

// Timeout bounds one sweep.
func (w *OrphanSweepWorker) Timeout(*river.Job[OrphanSweepArgs]) time.Duration { return sweepTimeout }

// Sweep walks tenants/ a page at a time. Of each page, the objects older
// than the grace are looked up in batches of at most 1000, each right
// before its DeleteObjects, so a row committed while the listing went on
// is seen and its object kept. A failed batch is logged and counted and
// the walk goes on; only a failed listing ends it (with an error).
func (w *OrphanSweepWorker) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	if w.Grace <= 0 {
		return res, errors.New("orphan sweep: grace must be positive")
	}
	cutoff := time.Now().Add(-w.Grace)
	errObjects := w.Store.ListPages(ctx, sweepPrefix, func(page []course.ObjectInfo) error {
		old := make([]string, 0, len(page))
		for _, o := range page {
			if !strings.HasPrefix(o.Key, sweepPrefix) {
				continue // a server that ignores Prefix: not ours
			}
			res.Listed++
			// An object the server gives no date is never old enough: what
			// cannot be dated is not deleted (confirm-upload accepts it too).
			if o.LastModified.IsZero() || !o.LastModified.Before(cutoff) {
				res.Young++
				continue
			}
			old = append(old, o.Key)
		}
		for start := 0; start < len(old); start += sweepBatch {
			w.deleteOrphans(ctx, old[start:min(start+sweepBatch, len(old))], &res)
		}
		return ctx.Err()
	})
	if errObjects != nil {
		w.Metrics.sweepFailed("list")
		errObjects = fmt.Errorf("list objects: %w", errObjects)
	}
	errUploads := w.Store.ListMultipartUploads(ctx, sweepPrefix, func(ups []course.MultipartUpload) error {
		w.abortUploads(ctx, ups, cutoff, &res)
		return ctx.Err()
	})
	if errUploads != nil {
		w.Metrics.sweepFailed("list")
		errUploads = fmt.Errorf("list multipart uploads: %w", errUploads)
	}
	return res, errors.Join(errObjects, errUploads)
}

// deleteOrphans deletes the keys of one batch that no material points at,
// asking the database immediately before the delete.
func (w *OrphanSweepWorker) deleteOrphans(ctx context.Context, keys []string, res *SweepResult) {
	refs, err := w.Refs.ReferencedKeys(ctx, keys)
	if err != nil {
		res.Failed++
		w.Metrics.sweepFailed("references")
		w.Log.Warn("storage_orphan_sweep_batch_failed", "logger", "jobs.storage_orphan_sweep", "step", "references",
			"keys", len(keys), "first_key", keys[0], "error", err)
		return
	}
	orphans := make([]string, 0, len(keys))
	for _, k := range keys {
		if !refs[k] {
			orphans = append(orphans, k)
		}
	}
	res.Referenced += len(keys) - len(orphans)
	if len(orphans) == 0 {
		return
	}
	if err := w.Store.Delete(ctx, orphans...); err != nil {
		res.Failed++
		w.Metrics.sweepFailed("delete")
		w.Log.Error("storage_orphan_sweep_batch_failed", "logger", "jobs.storage_orphan_sweep", "step", "delete",
			"keys", len(orphans), "first_key", orphans[0], "error", err)
		return
	}
	res.Deleted += len(orphans)
	w.Metrics.orphansDeleted(len(orphans))
	w.Log.Info("storage_orphans_deleted", "logger", "jobs.storage_orphan_sweep", "keys", len(orphans),
		"first_key", orphans[0], "last_key", orphans[len(orphans)-1])
}

// abortUploads aborts the uploads of a page started before cutoff; a
// failed abort is logged and counted, and the next one tried.
func (w *OrphanSweepWorker) abortUploads(ctx context.Context, ups []course.MultipartUpload, cutoff time.Time, res *SweepResult) {
	for _, u := range ups {
		if !strings.HasPrefix(u.Key, sweepPrefix) {
			continue
		}
		res.Uploads++
		if u.Initiated.IsZero() || !u.Initiated.Before(cutoff) {
			continue
		}
		if err := w.Store.AbortMultipart(ctx, u.Key, u.UploadID); err != nil {
			res.Failed++
			w.Metrics.sweepFailed("abort")
			w.Log.Error("storage_multipart_abort_failed", "logger", "jobs.storage_orphan_sweep", "key", u.Key, "error", err)
			continue
		}
		res.Aborted++
		w.Metrics.multipartAborted(1)
		w.Log.Info("storage_multipart_aborted", "logger", "jobs.storage_orphan_sweep", "key", u.Key,
			"initiated", u.Initiated.UTC().Format(time.RFC3339))
	}
}

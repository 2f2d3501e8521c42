package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/ingest"
)

// KindIngest is the River kind of ingest jobs.
const KindIngest = "ingest"

// interruptedRetry is when an attempt cut short by a shutdown runs again.
const interruptedRetry = 30 * time.Second

// interrupted reports whether the attempt's context was cancelled by this
// worker stopping, rather than by its timeout or by a remote cancellation
// (the job's material was deleted).
func interrupted(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled) && !errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely)
}

// waitForDependencies is how long a job with unfinished dependencies is
// snoozed (defensive: such jobs are released only when all are done).
const waitForDependencies = 30 * time.Second

// IngestArgs points at the business job; everything else is read from the
// database when the job runs, so a queue record never carries stale data.
type IngestArgs struct {
	JobID uuid.UUID `json:"job_id"`
}

// Kind implements river.JobArgs.
func (IngestArgs) Kind() string { return KindIngest }

// InsertOpts puts ingest jobs on their own queue at normal priority.
func (IngestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, Priority: PriorityNormal}
}

// IngestStore is the job state machine the ingest worker drives.
type IngestStore = course.JobLifecycle

// Downloader streams a stored object (objstore.Store): only the version
// the material recorded, never more than its size.
type Downloader interface {
	DownloadVersion(ctx context.Context, key string, v course.ObjectVersion, w io.Writer) (int64, error)
}

// Processor produces SourceDocuments (ingest.Processor).
type Processor interface {
	File(ctx context.Context, src ingest.Source) (*ingest.SourceDocument, error)
	URL(ctx context.Context, src ingest.Source) (*ingest.SourceDocument, ingest.Raw, error)
}

// IngestWorker turns a material's raw source into its SourceDocument and
// chunks (docs/design/jobs.md, "Ingest"). Its dependencies are fields, set by NewRunner.
type IngestWorker struct {
	river.WorkerDefaults[IngestArgs]
	Store    IngestStore
	Objects  Downloader
	Process  Processor
	Chunking ingest.ChunkConfig
	TmpDir   string
	Limit    time.Duration // WORKER_JOB_TIMEOUT
	Window   Window
	Backoff  backoff
	Metrics  *Metrics
	Log      *slog.Logger
}

// Timeout is the per-kind limit of one attempt; the context is cancelled
// after it and child processes (ffmpeg, pdftotext) are killed with it.
func (w *IngestWorker) Timeout(*river.Job[IngestArgs]) time.Duration { return w.Limit }

// Work runs one attempt.
func (w *IngestWorker) Work(ctx context.Context, job *river.Job[IngestArgs]) error {
	id := job.Args.JobID
	log := w.Log.With("logger", "jobs.ingest", "job_id", id, "attempt", job.Attempt)
	if now := time.Now(); w.Window.applies(job.Kind, job.Priority) {
		if next := w.Window.Next(now); next.After(now) {
			// Before the start guard: a snooze must not count an attempt.
			if err := w.Store.DeferJob(ctx, id, next); err != nil {
				return err
			}
			log.Info("job_snoozed", "until", next.UTC())
			return river.JobSnooze(next.Sub(now))
		}
	}
	verdict, task, err := w.Store.StartIngest(ctx, id)
	if err != nil {
		return fmt.Errorf("start ingest job: %w", err)
	}
	switch verdict {
	case course.StartStale:
		return nil
	case course.StartWait:
		log.Info("job_snoozed", "reason", "dependencies")
		return river.JobSnooze(waitForDependencies)
	case course.StartFailed:
		w.Metrics.finished(KindIngest, course.JobFailed)
		log.Warn("job_failed", "reason", "dependency failed")
		return nil
	case course.StartGone:
		w.Metrics.finished(KindIngest, course.JobCancelled)
		log.Info("job_cancelled", "reason", "material deleted")
		return nil
	}
	m := task.Material
	log = log.With("tenant_id", m.TenantID, "material_id", m.ID, "source_type", m.SourceType)
	log.Info("job_started")
	started := time.Now()
	res, err := w.ingest(ctx, m)
	if err == nil {
		err = w.Store.CompleteIngest(ctx, id, res, completeInTx(job))
	}
	w.Metrics.duration(KindIngest, time.Since(started))
	if err != nil {
		return w.failed(ctx, log, job, err)
	}
	w.Metrics.finished(KindIngest, course.JobComplete)
	log.Info("job_completed", "chunks", len(res.Chunks), "duration_ms", time.Since(started).Milliseconds())
	return nil
}

// failed records a failed attempt: final (permanent, or the last attempt)
// fails the job and its material; otherwise the job is queued again with
// the time of the next attempt.
func (w *IngestWorker) failed(ctx context.Context, log *slog.Logger, job *river.Job[IngestArgs], err error) error {
	id := job.Args.JobID
	// The attempt's context may be the reason for the failure (timeout,
	// shutdown): recording it must not depend on it.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if interrupted(ctx) {
		// A deploy or restart stopped the worker: snoozing gives River's
		// attempt back, InterruptJob the business one, so restarts never
		// use up a job's attempts.
		if ierr := w.Store.InterruptJob(rec, id, time.Now().Add(interruptedRetry)); ierr != nil {
			log.Error("job_requeue_failed", "error", ierr)
		}
		log.Info("job_interrupted", "error", err)
		return river.JobSnooze(interruptedRetry)
	}
	msg, permanent := classify(ctx, err, w.Limit)
	return settleFailure(rec, log, w.Store, w.Metrics, w.Backoff, job.JobRow, KindIngest, id, msg, permanent, err)
}

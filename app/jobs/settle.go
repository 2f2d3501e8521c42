package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"

	"github.com/course-supporter/course-supporter/app/course"
)

// attemptRecorder is the part of every business-job store that a failed
// attempt needs.
type attemptRecorder interface {
	FailJob(ctx context.Context, id uuid.UUID, msg string) error
	RequeueJob(ctx context.Context, id uuid.UUID, msg string, next time.Time) error
}

// settleFailure applies the one retry rule of docs/design/jobs.md
// ("Errors, retries, timeouts") to a failed attempt of any job kind: a
// permanent failure or the last attempt fails the job (River's job is
// cancelled for a permanent one), anything else is requeued with the
// jittered backoff that is also written to estimated_at.
func settleFailure(rec context.Context, log *slog.Logger, store attemptRecorder, m *Metrics, bo backoff,
	job *rivertype.JobRow, kind string, id uuid.UUID, msg string, permanent bool, err error) error {
	if permanent || job.Attempt >= job.MaxAttempts {
		if !permanent {
			msg = fmt.Sprintf("%s (after %d attempts)", msg, job.Attempt)
		}
		if ferr := store.FailJob(rec, id, msg); ferr != nil {
			return fmt.Errorf("record failure: %w (after %w)", ferr, err)
		}
		m.finished(kind, course.JobFailed)
		log.Warn("job_failed", "message", msg, "error", err)
		if permanent {
			return river.JobCancel(fmt.Errorf("%s: %w", msg, err))
		}
		return err
	}
	next := bo.next(job.ID, job.Attempt, job.Kind, job.Priority, time.Now())
	if rerr := store.RequeueJob(rec, id, msg, next); rerr != nil {
		log.Error("job_requeue_failed", "error", rerr)
	}
	log.Warn("job_retry_scheduled", "message", msg, "error", err, "next_attempt_at", next.UTC())
	return err
}

// completeInTx is the hook every worker hands its store: River's own
// completion of job, inside the transaction that stores the result, so
// the two commit together (docs/design/jobs.md).
func completeInTx[T river.JobArgs](job *river.Job[T]) func(context.Context, course.Tx) error {
	return func(ctx context.Context, tx course.Tx) error {
		t, err := sqlTx(tx)
		if err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, t, job)
		return err
	}
}

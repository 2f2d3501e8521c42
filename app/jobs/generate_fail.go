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

// Messages of step failures; details stay in the log.
const (
	msgStepTemporary    = "Temporary failure while generating the structure"
	msgModelRejected    = "Structuring was rejected by every configured model"
	msgModelFailed      = "Structuring failed on every configured model"
	msgModelUnavailable = "No model is configured for course structuring"
)

// classifyStep turns a step's error into its client-safe message and
// whether retrying is pointless.
func classifyStep(ctx context.Context, err error, limit time.Duration) (string, bool) {
	var all *course.AllModelsFailedError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("Job timed out after %s", limit), false
	case errors.Is(err, course.ErrLLMNotConfigured):
		return msgModelUnavailable, true
	case errors.As(err, &all):
		if all.Permanent {
			return msgModelRejected, true
		}
		return msgModelFailed, false
	case course.ErrorCode(err) == course.EINVALID:
		return course.ErrorMessage(err), true
	}
	return msgStepTemporary, false
}

// failed records a failed attempt like the ingest worker does: final
// fails the job and its dependents; otherwise it is queued again.
func (w *StepWorker) failed(ctx context.Context, log *slog.Logger, job *river.Job[StepArgs], err error) error {
	id := job.Args.JobID
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if interrupted(ctx) {
		if ierr := w.Store.InterruptJob(rec, id, time.Now().Add(interruptedRetry)); ierr != nil {
			log.Error("job_requeue_failed", "error", ierr)
		}
		log.Info("job_interrupted", "error", err)
		return river.JobSnooze(interruptedRetry)
	}
	msg, permanent := classifyStep(ctx, err, w.Opts.Timeout)
	return settleFailure(rec, log, w.Store, w.Metrics, w.Backoff, job.JobRow, KindStep, id, msg, permanent, err)
}

// scheduleStep inserts the River job of a generation step; the heavy-work
// window does not apply to steps.
func (e *Enqueuer) scheduleStep(ctx context.Context, tx course.Tx, job *course.Job) (course.QueueTicket, error) {
	t, err := sqlTx(tx)
	if err != nil {
		return course.QueueTicket{}, err
	}
	attempts := job.MaxAttempts
	if attempts <= 0 {
		attempts = e.maxAttempts
	}
	res, err := e.client.InsertTx(ctx, t, StepArgs{JobID: job.ID},
		&river.InsertOpts{MaxAttempts: attempts, Priority: riverPriority(job.Priority)})
	if err != nil {
		return course.QueueTicket{}, fmt.Errorf("enqueue step: %w", err)
	}
	return course.QueueTicket{Ref: course.QueueRef(res.Job.ID)}, nil
}

package course

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// The job lifecycle has two sides (docs/design/jobs.md): the state
// machine, which owns the jobs table and decides every transition, and the
// queue, which runs the work. They meet only through the interfaces below.
// A state change and the queue record it needs must commit together, so
// the state machine's open transaction crosses to the queue inside the
// JobQueue methods and QueueDone, as an opaque Tx, and nowhere else. A new
// job type (generation, embedding) plugs in by giving the queue a worker
// for its Type; no new method and no new transaction crossing.

// Tx is the state machine's transaction in progress as the queue sees it.
// The domain only carries it; the store that opens it and the queue that
// writes through it share the one database and agree on what it holds.
type Tx struct{ handle any }

// NewTx wraps a store's transaction.
func NewTx(handle any) Tx { return Tx{handle: handle} }

// Handle returns what the store wrapped.
func (t Tx) Handle() any { return t.handle }

// QueueRef is the queue's id of a job's record.
type QueueRef int64

// QueueTicket is what scheduling a job returned: its record and, when the
// heavy-work window defers the job, when it will start.
type QueueTicket struct {
	Ref           QueueRef
	DeferredUntil *time.Time
}

// ErrNotQueueable is returned by JobQueue.Schedule for a job type the queue
// has no worker for yet; such a job stays waiting, which is not a failure.
var ErrNotQueueable = errors.New("no queue worker for this job type")

// JobQueue is the queue side, called by the state machine inside the
// transaction of the state change that needs it.
type JobQueue interface {
	// Schedule creates the queue record of job (its Type picks the worker,
	// its Priority the order). ErrNotQueueable when no worker exists.
	Schedule(ctx context.Context, tx Tx, job *Job) (QueueTicket, error)
	// Unschedule cancels a record; one already finished or gone is left
	// as it is, without error.
	Unschedule(ctx context.Context, tx Tx, ref QueueRef) error
	// ScheduleCleanup schedules the deletion of stored objects whose rows
	// the transaction deletes.
	ScheduleCleanup(ctx context.Context, tx Tx, keys []string) error
	// ScheduleRelease queues another try at releasing tenant's waiting
	// ingest jobs, to run once tx commits: the release in tx skipped a
	// waiting job another transaction held locked (docs/design/jobs.md,
	// "Fair share").
	ScheduleRelease(ctx context.Context, tx Tx, tenant uuid.UUID) error
	// MaxAttempts is the attempt limit of new jobs.
	MaxAttempts() int
	// TenantSlots is how many ingest jobs of one tenant may hold a queue
	// record at once (0: no limit). The others wait without one and are
	// released as the tenant's jobs finish (docs/design/jobs.md, "Fair
	// share"), so one tenant's backlog never stands in front of another's.
	TenantSlots() int
}

// QueueDone completes the queue record of the job whose result is being
// stored, inside the state machine's transaction, so the result and the
// record's completion commit together.
type QueueDone func(ctx context.Context, tx Tx) error

// JobLifecycle is the state machine side, driven by the workers. Every
// transition of an id that is not unfinished is a no-op, so late or
// duplicate calls are harmless.
type JobLifecycle interface {
	// StartIngest runs the start guard and, on StartRun, returns the job
	// (now active) and its material. A deleted material cancels the job
	// (StartGone).
	StartIngest(ctx context.Context, id uuid.UUID) (JobStart, *IngestTask, error)
	// CompleteIngest stores the result and completes the job and, through
	// done, its queue record, in one transaction. A job cancelled
	// meanwhile drops the result.
	CompleteIngest(ctx context.Context, id uuid.UUID, res *IngestResult, done QueueDone) error
	// RequeueJob records a retryable failure and the next attempt's time.
	RequeueJob(ctx context.Context, id uuid.UUID, msg string, next time.Time) error
	// InterruptJob requeues an attempt a shutdown cut short, uncounted.
	InterruptJob(ctx context.Context, id uuid.UUID, next time.Time) error
	// FailJob records a final failure and fails every dependent.
	FailJob(ctx context.Context, id uuid.UUID, msg string) error
	// DeferJob records that the heavy-work window postponed the job.
	DeferJob(ctx context.Context, id uuid.UUID, at time.Time) error
}

// JobReaper repairs what crashes leave behind (docs/design/jobs.md,
// "Reaper").
type JobReaper interface {
	Reap(ctx context.Context, maxWait time.Duration) (ReapStats, error)
	// RescueDeadWorkers makes the running queue records of workers whose
	// heartbeat is older than staleAfter runnable again (or final when
	// their attempts are used up); Reap then requeues their jobs.
	RescueDeadWorkers(ctx context.Context, staleAfter time.Duration) (int, error)
	// ReleaseTenant gives tenant's oldest waiting ingest jobs the slots
	// that are free now (JobQueue.ScheduleRelease's retry). It reports
	// whether a waiting job was skipped again because another
	// transaction held it locked.
	ReleaseTenant(ctx context.Context, tenant uuid.UUID) (skipped bool, err error)
}

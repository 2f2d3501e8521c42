// Package jobs runs background work on River, the PostgreSQL-backed queue:
// job argument types, their workers, the insert-only enqueuer used inside
// store transactions, and the runner that works the queues. (It is not
// named "river" to avoid clashing with the library.)
package jobs

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"

	"github.com/course-supporter/course-supporter/app/course"
)

// Queues.
const (
	QueueMaintenance = "maintenance"
	QueueIngest      = "ingest"
	QueueEmbed       = "embed"
	// QueueSweep holds only storage_orphan_sweep, one at a time: a sweep of
	// a large bucket may take up to its hour-long timeout and must never
	// hold the maintenance queue (reaper, storage_cleanup, embed_backfill).
	QueueSweep = "sweep"
)

// River priorities of the business priorities (docs/design/jobs.md, "Priorities").
const (
	PriorityImmediate = 1
	PriorityNormal    = 2
)

// Enqueuer inserts jobs inside a caller's database/sql transaction, so a
// job commits atomically with the row change that needs it (River's
// InsertTx). It never works jobs.
type Enqueuer struct {
	client      *river.Client[*sql.Tx]
	window      Window
	maxAttempts int
	tenantSlots int
}

// EnqueueOptions tune what the enqueuer inserts.
type EnqueueOptions struct {
	Window      Window // heavy-work window for normal-priority ingest jobs
	MaxAttempts int    // WORKER_MAX_TRIES
	TenantSlots int    // WORKER_INGEST_TENANT_SLOTS; 0: no per-tenant limit
}

// NewEnqueuer returns an insert-only client on db. MaxAttempts has no
// default here (app/config holds it): zero is a wiring mistake and an
// error.
func NewEnqueuer(db *sql.DB, o EnqueueOptions) (*Enqueuer, error) {
	if o.MaxAttempts <= 0 {
		return nil, fmt.Errorf("jobs: enqueue option MaxAttempts must be positive, got %d", o.MaxAttempts)
	}
	c, err := river.NewClient(riverdatabasesql.New(db), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	return &Enqueuer{client: c, window: o.Window, maxAttempts: o.MaxAttempts, tenantSlots: max(o.TenantSlots, 0)}, nil
}

var _ course.JobQueue = (*Enqueuer)(nil)

// MaxAttempts is the attempt limit given to new jobs.
func (e *Enqueuer) MaxAttempts() int { return e.maxAttempts }

// TenantSlots is the per-tenant limit of ingest jobs holding a record.
func (e *Enqueuer) TenantSlots() int { return e.tenantSlots }

// sqlTx unwraps the store's transaction: the queue and the store share
// one database/sql handle, so a record commits with the state change.
func sqlTx(tx course.Tx) (*sql.Tx, error) {
	t, ok := tx.Handle().(*sql.Tx)
	if !ok {
		return nil, fmt.Errorf("queue: not a database/sql transaction (%T)", tx.Handle())
	}
	return t, nil
}

// ScheduleCleanup schedules the deletion of objects in tx.
func (e *Enqueuer) ScheduleCleanup(ctx context.Context, tx course.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	t, err := sqlTx(tx)
	if err != nil {
		return err
	}
	if _, err := e.client.InsertTx(ctx, t, CleanupArgs{Keys: keys}, nil); err != nil {
		return fmt.Errorf("enqueue storage cleanup: %w", err)
	}
	return nil
}

// Schedule inserts the River job of a business job in tx: ingest jobs on
// the ingest queue, steps on the generation queue; other types stay
// waiting (ErrNotQueueable).
// When the heavy-work window defers the job, the ticket says until when.
func (e *Enqueuer) Schedule(ctx context.Context, tx course.Tx, job *course.Job) (course.QueueTicket, error) {
	switch job.Type {
	case course.JobEmbed:
		return e.scheduleEmbed(ctx, tx, job)
	case course.JobGenerate, course.JobReconcile, course.JobRefine:
		return e.scheduleStep(ctx, tx, job)
	case course.JobIngest:
	default:
		return course.QueueTicket{}, course.ErrNotQueueable
	}
	t, err := sqlTx(tx)
	if err != nil {
		return course.QueueTicket{}, err
	}
	opts := &river.InsertOpts{MaxAttempts: e.maxAttempts, Priority: riverPriority(job.Priority)}
	var deferred *time.Time
	if now := time.Now(); e.window.applies(KindIngest, opts.Priority) {
		if next := e.window.Next(now); next.After(now) {
			opts.ScheduledAt = next
			deferred = &next
		}
	}
	res, err := e.client.InsertTx(ctx, t, IngestArgs{JobID: job.ID}, opts)
	if err != nil {
		return course.QueueTicket{}, fmt.Errorf("enqueue ingest: %w", err)
	}
	return course.QueueTicket{Ref: course.QueueRef(res.Job.ID), DeferredUntil: deferred}, nil
}

// Unschedule cancels River job ref in tx (a job whose target was deleted).
// A job already finished is left as it is.
func (e *Enqueuer) Unschedule(ctx context.Context, tx course.Tx, ref course.QueueRef) error {
	t, err := sqlTx(tx)
	if err != nil {
		return err
	}
	if _, err := e.client.JobCancelTx(ctx, t, int64(ref)); err != nil && !isNotFound(err) {
		return fmt.Errorf("cancel queue job %d: %w", ref, err)
	}
	return nil
}

// riverPriority maps a business priority to River's (1 runs first).
func riverPriority(p string) int {
	if p == course.PriorityImmediate {
		return PriorityImmediate
	}
	return PriorityNormal
}

func isNotFound(err error) bool { return errors.Is(err, rivertype.ErrNotFound) }

// backoff retries after base × 4^(attempt-1), capped at one hour, with
// ±10 % jitter derived from (job id, attempt) so the API can report the
// same time River uses. Retries of window-bound jobs move to the window.
type backoff struct {
	base   time.Duration
	window Window
}

// NextRetry implements river.ClientRetryPolicy.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return b.next(job.ID, job.Attempt, job.Kind, job.Priority, time.Now())
}

func (b backoff) next(id int64, attempt int, kind string, priority int, now time.Time) time.Time {
	t := now.Add(b.delay(id, attempt))
	if b.window.applies(kind, priority) {
		t = b.window.Next(t)
	}
	return t
}

func (b backoff) delay(id int64, attempt int) time.Duration {
	attempt = max(attempt, 1)
	d := float64(b.base) * math.Pow(4, float64(attempt-1))
	if d > float64(time.Hour) || d <= 0 {
		d = float64(time.Hour)
	}
	h := fnv.New64a()
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(id))      //nolint:gosec // G115: bits for hashing, sign irrelevant
	binary.BigEndian.PutUint64(buf[8:], uint64(attempt)) //nolint:gosec // G115: as above
	_, _ = h.Write(buf[:])
	jitter := float64(h.Sum64()%2001)/10000 - 0.1 // [-0.1, +0.1]
	return time.Duration(d * (1 + jitter))
}

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

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"
)

// Queues.
const (
	QueueMaintenance = "maintenance"
	QueueIngest      = "ingest"
)

// River priorities of the business priorities (jobs.md §1).
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
}

// EnqueueOptions tune what the enqueuer inserts.
type EnqueueOptions struct {
	Window      Window // heavy-work window for normal-priority ingest jobs
	MaxAttempts int    // WORKER_MAX_TRIES
}

// NewEnqueuer returns an insert-only client on db.
func NewEnqueuer(db *sql.DB, o EnqueueOptions) (*Enqueuer, error) {
	c, err := river.NewClient(riverdatabasesql.New(db), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	return &Enqueuer{client: c, window: o.Window, maxAttempts: o.MaxAttempts}, nil
}

// MaxAttempts is the attempt limit given to new jobs.
func (e *Enqueuer) MaxAttempts() int { return e.maxAttempts }

// CleanupObjectsTx schedules the deletion of objects in tx.
func (e *Enqueuer) CleanupObjectsTx(ctx context.Context, tx *sql.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := e.client.InsertTx(ctx, tx, CleanupArgs{Keys: keys}, nil); err != nil {
		return fmt.Errorf("enqueue storage cleanup: %w", err)
	}
	return nil
}

// IngestTx inserts the River job of business ingest job jobID in tx. It
// returns River's job id and, when the heavy-work window defers the job,
// the time it is scheduled for.
func (e *Enqueuer) IngestTx(ctx context.Context, tx *sql.Tx, jobID uuid.UUID) (int64, *time.Time, error) {
	opts := &river.InsertOpts{MaxAttempts: e.maxAttempts}
	var deferred *time.Time
	if now := time.Now(); e.window.applies(KindIngest, PriorityNormal) {
		if next := e.window.Next(now); next.After(now) {
			opts.ScheduledAt = next
			deferred = &next
		}
	}
	res, err := e.client.InsertTx(ctx, tx, IngestArgs{JobID: jobID}, opts)
	if err != nil {
		return 0, nil, fmt.Errorf("enqueue ingest: %w", err)
	}
	return res.Job.ID, deferred, nil
}

// CancelTx cancels River job id in tx (a job whose target was deleted).
// A job already finished is left as it is.
func (e *Enqueuer) CancelTx(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := e.client.JobCancelTx(ctx, tx, id); err != nil && !isNotFound(err) {
		return fmt.Errorf("cancel queue job %d: %w", id, err)
	}
	return nil
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

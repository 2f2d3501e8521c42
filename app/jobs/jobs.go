// Package jobs runs background work on River, the PostgreSQL-backed queue:
// job argument types, their workers, the insert-only enqueuer used inside
// store transactions, and the runner that works the queues. (It is not
// named "river" to avoid clashing with the library.)
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"
)

// Queues.
const (
	QueueMaintenance = "maintenance"
)

// Enqueuer inserts jobs inside a caller's database/sql transaction, so a
// job commits atomically with the row change that needs it (River's
// InsertTx). It never works jobs.
type Enqueuer struct {
	client *river.Client[*sql.Tx]
}

// NewEnqueuer returns an insert-only client on db.
func NewEnqueuer(db *sql.DB) (*Enqueuer, error) {
	c, err := river.NewClient(riverdatabasesql.New(db), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	return &Enqueuer{client: c}, nil
}

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

// backoff retries after base × 4^(attempt-1), capped at one hour, so a
// storage outage is ridden out without hammering the server.
type backoff struct{ base time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	attempt := max(job.Attempt, 1)
	d := time.Duration(float64(b.base) * math.Pow(4, float64(attempt-1)))
	if d > time.Hour || d <= 0 {
		d = time.Hour
	}
	return time.Now().Add(d)
}

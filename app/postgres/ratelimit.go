package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// RateLimiter enforces per-(tenant, scope) limits over a rolling 60 s in
// PostgreSQL, so every API process shares one budget. The state is one
// fixed-size row of per-second counts per bucket, updated by
// rate_limit_take (migration 00007): constant time and space per request,
// and never more than the limit in any rolling 60 s
// (docs/design/rate-limiting.md).
//
// Within a process, the requests of a bucket that arrive while its call
// is in flight wait and go together in the next call, which admits as many
// as fit. Each decision is still made in the database, atomically, so the
// limit stays exact across processes; but a busy bucket costs one round
// trip and one row update per batch instead of per request, and its row
// lock is never queued on by more than one connection per process.
type RateLimiter struct {
	db      *DB
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	calls   atomic.Int64 // database calls made (the benchmark reports them)
}

// bucketKey groups calls into batches: one bucket and one limit (keys of a
// tenant may carry different limits, each judged by its own).
type bucketKey struct {
	tenant uuid.UUID
	scope  string
	limit  int
}

// bucket is the in-process queue of one (tenant, scope).
type bucket struct {
	busy    bool // a call is in flight
	waiting []*hitCall
}

type hitCall struct {
	done chan struct{}
	d    course.RateDecision
	err  error
}

var _ course.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns the shared limiter (window 60 s, fixed in SQL).
func NewRateLimiter(db *DB) *RateLimiter {
	return &RateLimiter{db: db, buckets: map[bucketKey]*bucket{}}
}

// rateCallTimeout bounds one batched call; the batch does not stop when
// the request that started it goes away.
const rateCallTimeout = 5 * time.Second

// Hit counts one request if the bucket has room.
func (r *RateLimiter) Hit(ctx context.Context, tenantID uuid.UUID, scope string, limit int) (course.RateDecision, error) {
	c := &hitCall{done: make(chan struct{})}
	k := bucketKey{tenantID, scope, limit}
	r.mu.Lock()
	b := r.buckets[k]
	if b == nil {
		b = &bucket{}
		r.buckets[k] = b
	}
	b.waiting = append(b.waiting, c)
	lead := !b.busy
	b.busy = true
	r.mu.Unlock()
	if lead {
		r.flush(context.WithoutCancel(ctx), k, b)
	}
	select {
	case <-c.done:
		return c.d, c.err
	case <-ctx.Done():
		// The batch may still count this request: conservative, never over.
		return course.RateDecision{Limit: limit}, fmt.Errorf("rate limit hit: %w", ctx.Err())
	}
}

// flush sends the waiting calls of b as one batch, then hands the next
// batch (calls that arrived meanwhile) to a new goroutine, so no caller
// waits for more than its own batch and the one before it.
func (r *RateLimiter) flush(ctx context.Context, k bucketKey, b *bucket) {
	r.mu.Lock()
	batch := b.waiting
	b.waiting = nil
	r.mu.Unlock()

	r.calls.Add(1)
	cctx, cancel := context.WithTimeout(ctx, rateCallTimeout)
	var admitted, remaining int
	var resetMS int64
	err := r.db.Pool.QueryRow(cctx, `SELECT admitted, remaining, reset_ms FROM rate_limit_take($1, $2, $3, $4)`,
		k.tenant, k.scope, k.limit, len(batch)).Scan(&admitted, &remaining, &resetMS)
	cancel()
	if err != nil {
		err = fmt.Errorf("rate limit hit: %w", err)
	}
	for i, c := range batch {
		c.d = course.RateDecision{Limit: k.limit, Reset: time.Duration(resetMS) * time.Millisecond}
		c.err = err
		if err == nil && i < admitted {
			c.d.Allowed = true
			c.d.Remaining = remaining + admitted - 1 - i
		}
		close(c.done)
	}

	r.mu.Lock()
	if len(b.waiting) == 0 {
		b.busy = false
		delete(r.buckets, k)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	go r.flush(ctx, k, b)
}

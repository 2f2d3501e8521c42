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
// PostgreSQL, so every API process shares one budget: one fixed-size row
// of per-second counts per bucket (migration 00007), never more than the
// limit in any rolling 60 s (docs/design/rate-limiting.md).
//
// A round trip per request would cap the API's throughput, so a process
// leases tokens: rate_limit_lease (migration 00012) counts them in the
// database as admitted when they are taken, and the process spends them
// locally until the end of the database second they were counted in, then
// gives back what is left. The sum over processes therefore never exceeds
// the limit; the only inaccuracy is on the lower side (another process may
// be refused while this one holds unused tokens), bounded by the lease cap
// (limit/10 per process) for at most one second. Requests that find no
// lease wait together for the bucket's next call, as before leases.
type RateLimiter struct {
	db      *DB
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	closed  bool
	wg      flights      // calls and timer callbacks, for Close
	calls   atomic.Int64 // database calls made (the benchmark reports them)
}

// bucketKey is one budget: keys of a tenant may carry different limits,
// each judged by its own.
type bucketKey struct {
	tenant uuid.UUID
	scope  string
	limit  int
}

// lease is tokens counted in the database in second sec, spendable until
// expires (the end of that second, measured conservatively early).
type lease struct {
	sec     int64
	left    int
	expires time.Time
}

// bucket is the process's state of one budget; it is dropped once idle.
type bucket struct {
	key       bucketKey
	leases    []lease   // oldest first, one per database second
	remaining int       // limit minus the count at the last call (held tokens included in the count)
	resetAt   time.Time // when a slot frees, as of the last call
	fullUntil time.Time // the database was full: refuse locally until that second ends
	busy      bool      // a call is in flight
	waiting   []*hitCall
	hits      int       // requests since the last call was sent
	lastHit   time.Time // for dropping the bucket once idle
	sent      time.Time // when the last call was sent
	rate      float64   // requests per second between the last two calls
	timer     *time.Timer
	gen       int // of the armed timer: a stale callback does nothing
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

// Hit counts one request if the bucket has room: from a live lease without
// a round trip, else by waiting for the bucket's next database call.
func (r *RateLimiter) Hit(ctx context.Context, tenantID uuid.UUID, scope string, limit int) (course.RateDecision, error) {
	k := bucketKey{tenantID, scope, limit}
	r.mu.Lock()
	now := time.Now() // under the lock: a token is spent no later than this
	b := r.buckets[k]
	if b == nil {
		b = &bucket{key: k} // no history: its first call leases nothing
		r.buckets[k] = b
	}
	b.hits++
	b.lastHit = now
	if b.take(now) {
		d := course.RateDecision{Allowed: true, Limit: limit, Remaining: b.remaining + b.held(now), Reset: b.reset(now)}
		if !b.busy && !r.closed && b.low(now) {
			b.busy = true // renew ahead, off the request path
			r.wg.Add(1)
			go r.call(b) //nolint:gosec // G118: the renewal serves the bucket, not this request
		}
		r.mu.Unlock()
		return d, nil
	}
	if now.Before(b.fullUntil) {
		d := course.RateDecision{Limit: limit, Reset: b.reset(now)}
		r.mu.Unlock()
		return d, nil
	}
	c := &hitCall{done: make(chan struct{})}
	b.waiting = append(b.waiting, c)
	lead := !b.busy
	if lead {
		b.busy = true
		r.wg.Add(1)
	}
	r.mu.Unlock()
	if lead {
		r.call(b)
	}
	select {
	case <-c.done:
		return c.d, c.err
	case <-ctx.Done():
		// The call may still count this request: conservative, never over.
		return course.RateDecision{Limit: limit}, fmt.Errorf("rate limit hit: %w", ctx.Err())
	}
}

// Close gives every unused token back to the database and stops the
// timers; call it after the HTTP server has stopped (Hit still answers
// afterwards, without leasing). It stops at ctx's deadline: tokens not
// given back stay counted until they leave the window (at most 61 s), which
// is better than outliving the container's stop grace.
func (r *RateLimiter) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	for _, b := range r.buckets {
		if b.timer != nil && b.timer.Stop() {
			b.timer = nil
			r.wg.Done()
		}
	}
	r.mu.Unlock()
	if err := r.wg.Wait(ctx); err != nil {
		return fmt.Errorf("rate limiter close: %w", err)
	}
	r.mu.Lock()
	type give struct {
		k    bucketKey
		secs []int64
		ns   []int
	}
	var gives []give
	for k, b := range r.buckets {
		g := give{k: k}
		for _, l := range b.leases {
			if l.left > 0 {
				g.secs, g.ns = append(g.secs, l.sec), append(g.ns, l.left)
			}
		}
		b.leases = nil
		if len(g.secs) > 0 {
			gives = append(gives, g)
		}
		if !b.busy && len(b.waiting) == 0 {
			delete(r.buckets, k)
		}
	}
	r.mu.Unlock()
	var err error
	for _, g := range gives {
		if ctx.Err() != nil {
			return fmt.Errorf("rate limiter close: %w", ctx.Err())
		}
		if _, e := r.lease(ctx, g.k, 0, 0, 0, g.secs, g.ns); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// rateCallTimeout bounds one call; it does not stop when the request that
// started it goes away.
const rateCallTimeout = 5 * time.Second

type leaseResult struct {
	admitted, remaining int
	resetMS             int64
	sec                 int64
	leftMS              int
}

// lease is one round trip to rate_limit_lease (migration 00012).
func (r *RateLimiter) lease(ctx context.Context, k bucketKey, need int, rate float64, leaseCap int,
	secs []int64, ns []int) (leaseResult, error) {
	r.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, rateCallTimeout)
	defer cancel()
	if secs == nil {
		secs, ns = []int64{}, []int{}
	}
	var res leaseResult
	err := r.db.Pool.QueryRow(ctx, `SELECT admitted, remaining, reset_ms, lease_sec, left_ms
		FROM rate_limit_lease($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.tenant, k.scope, k.limit, need, float32(rate), leaseCap, secs, ns).
		Scan(&res.admitted, &res.remaining, &res.resetMS, &res.sec, &res.leftMS)
	if err != nil {
		return res, fmt.Errorf("rate limit lease: %w", err)
	}
	return res, nil
}

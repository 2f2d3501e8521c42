package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// RateLimiter enforces per-(tenant, scope) limits over a rolling window in
// PostgreSQL, so every API process shares one budget. One call is one round
// trip to the rate_limit_hit function, which serialises concurrent requests
// of a bucket on its row lock.
type RateLimiter struct {
	db     *DB
	window time.Duration
}

var _ course.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter with a 60 s window.
func NewRateLimiter(db *DB) *RateLimiter { return &RateLimiter{db: db, window: time.Minute} }

// Hit counts one request if the bucket has room.
func (r *RateLimiter) Hit(ctx context.Context, tenantID uuid.UUID, scope string, limit int) (course.RateDecision, error) {
	d := course.RateDecision{Limit: limit}
	var resetMS int64
	err := r.db.Pool.QueryRow(ctx, `SELECT allowed, remaining, reset_ms FROM rate_limit_hit($1, $2, $3, $4::interval)`,
		tenantID, scope, limit, r.window.String()).Scan(&d.Allowed, &d.Remaining, &resetMS)
	if err != nil {
		return d, fmt.Errorf("rate limit hit: %w", err)
	}
	d.Reset = time.Duration(resetMS) * time.Millisecond
	return d, nil
}

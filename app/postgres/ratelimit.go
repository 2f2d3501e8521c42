package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// RateLimiter enforces per-(tenant, scope) limits over a rolling 60 s in
// PostgreSQL, so every API process shares one budget. One call is one round
// trip to rate_limit_take (migration 00007), which keeps a fixed-size row of
// per-second counts per bucket: constant time and space per request, and
// never more than the limit in any rolling 60 s (docs/design/rate-limiting.md).
type RateLimiter struct {
	db *DB
}

var _ course.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns the shared limiter (window 60 s, fixed in SQL).
func NewRateLimiter(db *DB) *RateLimiter { return &RateLimiter{db: db} }

// Hit counts one request if the bucket has room.
func (r *RateLimiter) Hit(ctx context.Context, tenantID uuid.UUID, scope string, limit int) (course.RateDecision, error) {
	d := course.RateDecision{Limit: limit}
	var resetMS int64
	err := r.db.Pool.QueryRow(ctx, `SELECT allowed, remaining, reset_ms FROM rate_limit_take($1, $2, $3)`,
		tenantID, scope, limit).Scan(&d.Allowed, &d.Remaining, &resetMS)
	if err != nil {
		return d, fmt.Errorf("rate limit hit: %w", err)
	}
	d.Reset = time.Duration(resetMS) * time.Millisecond
	return d, nil
}

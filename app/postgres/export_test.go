package postgres

import (
	"time"

	"github.com/google/uuid"
)

// InTx exposes inTx to the external tests (tx_retry_test.go).
var InTx = inTx

// RateLimiterCalls is how many database calls the limiter has made.
func RateLimiterCalls(r *RateLimiter) int64 { return r.calls.Load() }

// RateLimiterBuckets is how many buckets the limiter keeps in memory.
func RateLimiterBuckets(r *RateLimiter) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buckets)
}

// RateLimiterHeld is the unused tokens the limiter holds for a bucket.
func RateLimiterHeld(r *RateLimiter, tenant uuid.UUID, scope string, limit int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.buckets[bucketKey{tenant, scope, limit}]; b != nil {
		return b.held(time.Now())
	}
	return 0
}

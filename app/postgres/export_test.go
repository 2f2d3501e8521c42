package postgres

// InTx exposes inTx to the external tests (tx_retry_test.go).
var InTx = inTx

// RateLimiterCalls is how many database calls the limiter has made.
func RateLimiterCalls(r *RateLimiter) int64 { return r.calls.Load() }

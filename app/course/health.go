package course

import "context"

// Health failure kinds reported by /health as "error: <Kind>". They are
// short, stable words rather than driver messages so that monitors can
// match on them and no internal detail leaks to the public endpoint.
const (
	HealthTimeout      = "Timeout"
	HealthUnavailable  = "Unavailable"
	HealthNotFound     = "NotFound"
	HealthAccessDenied = "AccessDenied"
	HealthQueryError   = "QueryError"
	HealthNoWorker     = "NoActiveWorker"
	HealthOther        = "Error"
)

// HealthError is returned by a Checker; Kind is one of the Health* words.
type HealthError struct {
	Kind string
	Err  error
}

// Error implements error.
func (e *HealthError) Error() string { return e.Kind + ": " + e.Err.Error() }

// Unwrap exposes the cause for logging.
func (e *HealthError) Unwrap() error { return e.Err }

// Checker probes one dependency. Check returns nil when the dependency
// answers, or a *HealthError naming what kind of failure was seen.
type Checker interface {
	Check(ctx context.Context) error
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context) error

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context) error { return f(ctx) }

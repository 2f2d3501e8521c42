package postgres

import (
	"context"
	"sync"
)

// flights counts the limiter's calls and timer callbacks in flight. Unlike
// sync.WaitGroup, a new flight may start while Close waits (a request that
// arrives during shutdown still leads a call), and the wait gives up at
// its context's deadline.
type flights struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while nobody waits
}

// Add starts (delta > 0) or ends (delta < 0) flights.
func (f *flights) Add(delta int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n += delta
	if f.n < 0 {
		panic("postgres: rate limiter flights below zero")
	}
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
}

// Done ends one flight.
func (f *flights) Done() { f.Add(-1) }

// Wait returns when no flight is left, or with ctx's error.
func (f *flights) Wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

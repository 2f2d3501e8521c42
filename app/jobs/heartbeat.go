package jobs

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Heartbeater writes this worker process's heartbeat row every Interval,
// so /health can tell whether any worker is alive, and remembers when the
// last write succeeded, so the process can report itself unhealthy when
// it cannot reach the database.
type Heartbeater struct {
	Beat     func(ctx context.Context) error
	Interval time.Duration
	Log      *slog.Logger
	last     atomic.Int64 // unix nanoseconds of the last successful write
	started  atomic.Int64 // unix nanoseconds of Run's start
}

// Once writes one heartbeat. Starting a process with it makes /health
// see the worker as soon as the process serves.
func (h *Heartbeater) Once(ctx context.Context) {
	h.started.CompareAndSwap(0, time.Now().UnixNano())
	bctx, cancel := context.WithTimeout(ctx, h.Interval)
	defer cancel()
	if err := h.Beat(bctx); err != nil {
		if ctx.Err() == nil {
			h.Log.Warn("worker_heartbeat_failed", "logger", "worker", "error", err)
		}
		return
	}
	h.last.Store(time.Now().UnixNano())
}

// Run writes a heartbeat every Interval until ctx ends.
func (h *Heartbeater) Run(ctx context.Context) {
	h.started.CompareAndSwap(0, time.Now().UnixNano())
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Once(ctx)
		}
	}
}

// Age is the time since the last successful heartbeat (since start when
// none succeeded yet).
func (h *Heartbeater) Age() time.Duration {
	if n := h.last.Load(); n != 0 {
		return time.Since(time.Unix(0, n))
	}
	if n := h.started.Load(); n != 0 {
		return time.Since(time.Unix(0, n))
	}
	return 0
}

// Live reports whether the last heartbeat is at most two intervals old
// (the worker's /livez).
func (h *Heartbeater) Live() bool { return h.Age() <= 2*h.Interval }

// Collector exports cs_worker_heartbeat_age_seconds.
func (h *Heartbeater) Collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cs_worker_heartbeat_age_seconds",
		Help: "Seconds since this worker process last wrote its heartbeat.",
	}, func() float64 { return h.Age().Seconds() })
}

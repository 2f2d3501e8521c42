package llm

import (
	"sync"
	"time"
)

// failureWindow counts attempts and failed attempts per minute over the
// last 15 minutes, so the process can export the failure ratio as one
// gauge (cs_llm_failure_ratio_15m) that a netdata alarm reads directly:
// netdata charts every labelled series separately and cannot sum them.
type failureWindow struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets [windowMinutes]struct {
		minute        int64
		total, failed int
	}
}

const (
	windowMinutes = 15
	// minAttempts: below this many attempts in the window the ratio is
	// reported as 0; one failed call out of two is not an outage.
	minAttempts = 5
)

func (w *failureWindow) add(failed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.now().Unix() / 60
	b := &w.buckets[m%windowMinutes]
	if b.minute != m {
		b.minute, b.total, b.failed = m, 0, 0
	}
	b.total++
	if failed {
		b.failed++
	}
}

// ratio is failed/total over the buckets of the last 15 minutes.
func (w *failureWindow) ratio() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.now().Unix() / 60
	total, failed := 0, 0
	for _, b := range w.buckets {
		if b.minute > m-windowMinutes && b.minute <= m {
			total += b.total
			failed += b.failed
		}
	}
	if total < minAttempts {
		return 0
	}
	return float64(failed) / float64(total)
}

package fetch

import (
	"context"
	"errors"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// msgTooSlow is the client-safe failure of a fetch below the minimum
// transfer rate: permanent for the job, since a server that trickles does
// so again (docs/operations/limits.md).
const msgTooSlow = "Download too slow: below %d bytes per second"

// rateDeadline is the whole-fetch limit implied by the minimum rate: the
// grace period (StallTimeout) plus the time MaxBytes take at that rate, or
// o.Timeout if it is shorter.
func rateDeadline(o Options) time.Duration {
	if o.MinBytesPerSec <= 0 {
		return o.Timeout
	}
	d := o.StallTimeout + time.Duration(o.MaxBytes/o.MinBytesPerSec+1)*time.Second
	return min(d, o.Timeout)
}

// meter checks a body's average rate after the grace period.
type meter struct {
	started time.Time
	grace   time.Duration
	min     int64
	n       int64
}

// meter returns the rate check of one fetch, nil without a minimum rate.
func (f *Fetcher) meter(started time.Time) *meter {
	if f.o.MinBytesPerSec <= 0 {
		return nil
	}
	return &meter{started: started, grace: f.o.StallTimeout, min: f.o.MinBytesPerSec}
}

// add counts n bytes and returns the too-slow error once the bytes so far
// are fewer than the minimum rate allows for the time past the grace.
func (m *meter) add(n int) error {
	m.n += int64(n)
	return m.check(time.Now())
}

func (m *meter) check(now time.Time) error {
	over := now.Sub(m.started) - m.grace
	if over > 0 && float64(m.n) < over.Seconds()*float64(m.min) {
		return course.Errorf(course.EINVALID, msgTooSlow, m.min)
	}
	return nil
}

// tooSlow explains a fetch cut short by its own deadline (not the
// caller's) when a minimum rate is set: with n bytes received the fetch
// was below the rate, which is the client-safe reason.
func (f *Fetcher) tooSlow(parent, ctx context.Context, started time.Time, n int64) error {
	ownDeadline := parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
	if f.o.MinBytesPerSec <= 0 || !ownDeadline {
		return nil
	}
	m := &meter{started: started, grace: f.o.StallTimeout, min: f.o.MinBytesPerSec, n: n}
	return m.check(time.Now())
}

package postgres

import (
	"context"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// The lease policy (docs/design/rate-limiting.md, "Leases").
const (
	// leaseShare caps what one process holds at limit/leaseShare tokens;
	// below leaseShare a bucket is not leased at all (one call per batch,
	// exact on both sides).
	leaseShare = 10
	// leaseHeadroom scales the measured rate when sizing a lease.
	leaseHeadroom = 1.25
	// leaseAhead: renew, off the request path, when the tokens held would
	// last less than this at the bucket's rate.
	leaseAhead = 50 * time.Millisecond
	// rateWindow is the shortest interval a rate is measured over, so a
	// few requests close together do not look like a flood.
	rateWindow = 50 * time.Millisecond
	// tickSlack: the timer fires this long after a lease ends, so that its
	// renewal lands in the database's next second.
	tickSlack = 2 * time.Millisecond
	// idleAfter drops a bucket that has had no request for this long.
	idleAfter = time.Second
)

// take spends one token of a live lease.
func (b *bucket) take(now time.Time) bool {
	for i := range b.leases {
		if l := &b.leases[i]; l.left > 0 && now.Before(l.expires) {
			l.left--
			return true
		}
	}
	return false
}

// held is the tokens of live leases.
func (b *bucket) held(now time.Time) int {
	n := 0
	for _, l := range b.leases {
		if now.Before(l.expires) {
			n += l.left
		}
	}
	return n
}

func (b *bucket) reset(now time.Time) time.Duration { return max(b.resetAt.Sub(now), 0) }

// low says the tokens held will run out before the lease ends, soon.
func (b *bucket) low(now time.Time) bool {
	if b.rate <= 0 || len(b.leases) == 0 {
		return false
	}
	until := b.leases[len(b.leases)-1].expires.Sub(now)
	if until < 5*tickSlack {
		return false // the renewal would land in the same second: wait for the next
	}
	return float64(b.held(now)) < b.rate*min(until, leaseAhead).Seconds()
}

// expired removes the leases whose second has ended and lists the unused
// tokens to give back.
func (b *bucket) expired(now time.Time) (secs []int64, ns []int) {
	kept := b.leases[:0]
	for _, l := range b.leases {
		switch {
		case now.Before(l.expires):
			kept = append(kept, l)
		case l.left > 0:
			secs, ns = append(secs, l.sec), append(ns, l.left)
		}
	}
	b.leases = kept
	return secs, ns
}

// settle hands out the result of a call: the first of the batch get the
// tokens counted for them, the rest become a lease.
func (b *bucket) settle(res leaseResult, batch []*hitCall, sent, recv time.Time) {
	b.remaining = res.remaining
	b.resetAt = recv.Add(time.Duration(res.resetMS) * time.Millisecond)
	// The database read its clock after sent: its second ends no earlier.
	expires := sent.Add(time.Duration(res.leftMS) * time.Millisecond)
	served := min(res.admitted, len(batch))
	if extra := res.admitted - served; extra > 0 {
		if n := len(b.leases); n > 0 && b.leases[n-1].sec == res.sec {
			b.leases[n-1].left += extra
			b.leases[n-1].expires = minTime(b.leases[n-1].expires, expires)
		} else {
			b.leases = append(b.leases, lease{sec: res.sec, left: extra, expires: expires})
		}
	}
	held := b.held(recv)
	for i, c := range batch {
		c.d = course.RateDecision{Limit: b.key.limit, Reset: b.reset(recv)}
		if i < served {
			c.d.Allowed = true
			c.d.Remaining = b.remaining + held + served - 1 - i
		}
		close(c.done)
	}
	if served < len(batch) {
		b.fullUntil = expires // nothing frees before the second ends but other processes' returns
	}
}

// serveWaiting answers the requests that arrived during a call from the
// new lease, or refuses them while the database is full; it reports
// whether some still need a call.
func (b *bucket) serveWaiting(now time.Time) bool {
	for len(b.waiting) > 0 {
		c := b.waiting[0]
		switch {
		case b.take(now):
			c.d = course.RateDecision{Allowed: true, Limit: b.key.limit, Remaining: b.remaining + b.held(now), Reset: b.reset(now)}
		case now.Before(b.fullUntil):
			c.d = course.RateDecision{Limit: b.key.limit, Reset: b.reset(now)}
		default:
			return true
		}
		close(c.done)
		b.waiting = b.waiting[1:]
	}
	b.waiting = nil
	return false
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// call makes one database call for b (b.busy is set, r.wg counts it):
// gives back expired tokens, admits the waiting requests, takes a lease.
func (r *RateLimiter) call(b *bucket) {
	defer r.wg.Done()
	r.mu.Lock()
	sent := time.Now()
	secs, ns := b.expired(sent)
	batch := b.waiting
	b.waiting = nil
	b.rate = 0
	if !b.sent.IsZero() {
		b.rate = float64(b.hits) / max(sent.Sub(b.sent), rateWindow).Seconds()
	}
	b.hits, b.sent = 0, sent
	leaseCap := 0
	if !r.closed {
		leaseCap = max(b.key.limit/leaseShare-b.held(sent), 0)
	}
	rate := b.rate * leaseHeadroom
	r.mu.Unlock()

	res, err := r.lease(context.Background(), b.key, len(batch), rate, leaseCap, secs, ns)

	r.mu.Lock()
	defer r.mu.Unlock()
	recv := time.Now()
	if err != nil {
		// Fail open is the API's choice (app/api/auth.go); the tokens to
		// give back stay counted until they leave the window.
		for _, c := range batch {
			c.d, c.err = course.RateDecision{Limit: b.key.limit}, err
			close(c.done)
		}
	} else {
		b.settle(res, batch, sent, recv)
	}
	if b.serveWaiting(recv) {
		r.wg.Add(1)
		go r.call(b) // the caller that led this call must not wait for the next
		return
	}
	b.busy = false
	r.arm(b, recv)
}

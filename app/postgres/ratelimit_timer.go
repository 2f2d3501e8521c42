package postgres

import "time"

// arm sets b's one timer: at the end of its oldest lease, to give back
// and renew, or once idle, to drop the bucket. Called with r.mu held.
func (r *RateLimiter) arm(b *bucket, now time.Time) {
	if b.timer != nil && b.timer.Stop() {
		r.wg.Done()
	}
	b.timer = nil
	b.gen++
	if r.closed {
		return
	}
	at := maxTime(b.lastHit.Add(idleAfter), b.fullUntil)
	if len(b.leases) > 0 {
		at = b.leases[0].expires.Add(tickSlack)
	}
	gen := b.gen
	r.wg.Add(1)
	b.timer = time.AfterFunc(max(at.Sub(now), 0), func() { r.tick(b, gen) })
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tick is b's timer: it gives back the unused tokens of a lease that has
// ended, and renews at once if the bucket was busy during it, so requests
// at a second's edge rarely wait; an idle bucket is dropped.
func (r *RateLimiter) tick(b *bucket, gen int) {
	r.mu.Lock()
	if gen != b.gen || b.busy || r.closed {
		r.mu.Unlock() // a newer timer, or the call in flight re-arms
		r.wg.Done()
		return
	}
	b.timer = nil
	now := time.Now()
	give, renew := false, false
	for _, l := range b.leases {
		if !now.Before(l.expires) {
			give = give || l.left > 0
			renew = renew || b.hits > 0
		}
	}
	if give || (renew && b.held(now) == 0) {
		b.busy = true
		r.mu.Unlock()
		r.call(b) // takes over this timer's count in r.wg
		return
	}
	b.expired(now)
	if len(b.leases) == 0 && len(b.waiting) == 0 && now.Sub(b.lastHit) >= idleAfter && !now.Before(b.fullUntil) {
		if r.buckets[b.key] == b {
			delete(r.buckets, b.key)
		}
	} else {
		r.arm(b, now)
	}
	r.mu.Unlock()
	r.wg.Done()
}

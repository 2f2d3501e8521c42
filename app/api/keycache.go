package api

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// keyCache reuses key lookups for at most ttl, so a hot key costs no
// query per request. The ttl is also the longest a revocation or a tenant
// deactivation takes to bite. Unknown keys are not cached, so a new key
// works at once.
type keyCache struct {
	store course.KeyStore
	ttl   time.Duration

	mu      sync.Mutex
	entries map[string]keyEntry
	touched map[uuid.UUID]time.Time
}

type keyEntry struct {
	rec     *course.KeyRecord
	fetched time.Time
}

func newKeyCache(store course.KeyStore, ttl time.Duration) *keyCache {
	return &keyCache{store: store, ttl: ttl, entries: map[string]keyEntry{}, touched: map[uuid.UUID]time.Time{}}
}

func (c *keyCache) lookup(ctx context.Context, raw string) (*course.KeyRecord, error) {
	if c.store == nil {
		return nil, course.Errorf(course.ENOTFOUND, "no key store")
	}
	hash := course.HashKey(raw)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < c.ttl {
		return e.rec, nil
	}
	rec, err := c.store.LookupKey(ctx, hash)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > 10_000 { // bound memory against key sprays
		clear(c.entries)
	}
	c.entries[hash] = keyEntry{rec: rec, fetched: now}
	touch := now.Sub(c.touched[rec.KeyID]) > course.KeyTouchEvery
	if touch {
		c.touched[rec.KeyID] = now
	}
	c.mu.Unlock()
	if touch {
		go func() { // best effort: a failed touch never fails a request
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = c.store.TouchKey(tctx, rec.KeyID)
		}()
	}
	return rec, nil
}

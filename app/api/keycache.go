package api

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Unknown keys (docs/design/api.md, "Authentication"): a key spray, valid
// in shape but unknown, used to cost one database query per request.
const (
	// negativeTTL is how long a key found unknown is refused from memory.
	negativeTTL = 10 * time.Second
	// issuedRefresh is the most often the set of issued key hashes is read
	// again on a miss; it is also the longest a key created meanwhile may
	// be refused.
	issuedRefresh = time.Second
	// maxEntries bounds each cache map against sprays.
	maxEntries = 10_000
	// spareLookups is how many lookups per second keys missing from a set
	// read less than issuedRefresh ago may still cost (keys created since
	// that read work at once; a spray beyond it is refused from memory).
	spareLookups = 10
)

// keyCache reuses key lookups for at most ttl, so a hot key costs no
// query per request. The ttl is also the longest a revocation or a tenant
// deactivation takes to bite. Unknown keys cost no query either: a key no
// issued key has is refused from the set of issued hashes (read again at
// most once per issuedRefresh, and only on a miss). Between two reads a
// missing key may still be looked up, spareLookups times a second, so a
// key created just now works at once; a key looked up and not found is
// remembered for negativeTTL. A key spray costs at most about
// spareLookups + 1 queries a second, whatever its rate.
type keyCache struct {
	store course.KeyStore
	ttl   time.Duration

	mu        sync.Mutex
	entries   map[string]keyEntry
	unknown   map[string]time.Time
	touched   map[uuid.UUID]time.Time
	issuedSet map[string]bool
	readAt    time.Time
	tokens    float64   // spare lookups left (token bucket)
	tokensAt  time.Time // when tokens was last refilled

	refresh sync.Mutex // one read of the issued set at a time
}

type keyEntry struct {
	rec     *course.KeyRecord
	fetched time.Time
}

func newKeyCache(store course.KeyStore, ttl time.Duration) *keyCache {
	return &keyCache{store: store, ttl: ttl, entries: map[string]keyEntry{}, unknown: map[string]time.Time{},
		touched: map[uuid.UUID]time.Time{}}
}

func errUnknownKey() error { return course.Errorf(course.ENOTFOUND, "API key not found") }

func (c *keyCache) lookup(ctx context.Context, raw string) (*course.KeyRecord, error) {
	if c.store == nil {
		return nil, course.Errorf(course.ENOTFOUND, "no key store")
	}
	hash := course.HashKey(raw)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[hash]
	seen, isUnknown := c.unknown[hash]
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < c.ttl {
		return e.rec, nil
	}
	if isUnknown && now.Sub(seen) < negativeTTL {
		return nil, errUnknownKey()
	}
	issued, authoritative, err := c.issued(ctx, hash)
	if err != nil {
		return nil, err
	}
	if !issued && (authoritative || !c.spare(now)) {
		// Not remembered: the set may predate a key created just now.
		return nil, errUnknownKey()
	}
	rec, err := c.store.LookupKey(ctx, hash)
	if course.ErrorCode(err) == course.ENOTFOUND {
		c.remember(hash, now)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > maxEntries {
		clear(c.entries)
	}
	c.entries[hash] = keyEntry{rec: rec, fetched: now}
	delete(c.unknown, hash)
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

func (c *keyCache) remember(hash string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.unknown) > maxEntries {
		clear(c.unknown)
	}
	c.unknown[hash] = now
}

// spare takes one of the spare lookups of the current second.
func (c *keyCache) spare(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens = min(spareLookups, c.tokens+now.Sub(c.tokensAt).Seconds()*spareLookups)
	c.tokensAt = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// issued reports whether some issued key has hash. A hash missing from a
// set older than issuedRefresh reads the set again first (once, however
// many requests ask at the same time); authoritative is true when this
// call read it, so the answer is current.
func (c *keyCache) issued(ctx context.Context, hash string) (known, authoritative bool, err error) {
	c.mu.Lock()
	known, fresh := c.issuedSet[hash], time.Since(c.readAt) < issuedRefresh
	c.mu.Unlock()
	if known || fresh {
		return known, false, nil
	}
	c.refresh.Lock()
	defer c.refresh.Unlock()
	c.mu.Lock()
	known, fresh = c.issuedSet[hash], time.Since(c.readAt) < issuedRefresh
	c.mu.Unlock()
	if known || fresh { // another request read the set meanwhile
		return known, false, nil
	}
	list, err := c.store.KeyHashes(ctx)
	if err != nil {
		return false, false, err
	}
	set := make(map[string]bool, len(list))
	for _, h := range list {
		set[h] = true
	}
	c.mu.Lock()
	c.issuedSet, c.readAt = set, time.Now()
	c.mu.Unlock()
	return set[hash], true, nil
}

package api_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// countingKeys counts the key store's database reads.
type countingKeys struct {
	course.KeyStore
	lookups, lists atomic.Int32
}

func (k *countingKeys) LookupKey(ctx context.Context, hash string) (*course.KeyRecord, error) {
	k.lookups.Add(1)
	return k.KeyStore.LookupKey(ctx, hash)
}

func (k *countingKeys) KeyHashes(ctx context.Context) ([]string, error) {
	k.lists.Add(1)
	return k.KeyStore.KeyHashes(ctx)
}

func sprayKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "cs_live_" + hex.EncodeToString(b)
}

// TestKeySprayCostsNoQueryPerRequest: well-formed but unknown keys used to
// cost one database lookup each, so a spray of random keys was a spray of
// queries. Now they are refused from memory (the issued set is read at
// most once a second, plus a few spare lookups a second), while real keys,
// and a key created just now, still work.
func TestKeySprayCostsNoQueryPerRequest(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	keys := &countingKeys{KeyStore: s.deps.Keys}
	s.deps.Keys = keys
	s.build()
	tenant, real := s.tenantWithKey("acme")
	if r := s.call(http.MethodGet, "/api/v1/nodes", real, nil); r.Status != 200 {
		t.Fatalf("real key: %d %s", r.Status, r.Raw)
	}
	before := keys.lookups.Load() + keys.lists.Load()
	const spray = 500
	start := time.Now()
	for range spray {
		if r := s.call(http.MethodGet, "/api/v1/nodes", sprayKey(), nil); r.Status != 401 {
			t.Fatalf("sprayed key: %d %s", r.Status, r.Raw)
		}
	}
	elapsed := time.Since(start)
	queries := keys.lookups.Load() + keys.lists.Load() - before
	t.Logf("%d sprayed keys in %s cost %d key-store queries", spray, elapsed.Round(time.Millisecond), queries)
	// The spare budget is per clock second, so a spray straddling a
	// second boundary may spend two seconds' worth.
	if limit := int32(elapsed/time.Second+2) * 12; queries > limit {
		t.Fatalf("%d sprayed keys cost %d queries, want at most %d (about 11 a second)", spray, queries, limit)
	}
	if r := s.call(http.MethodGet, "/api/v1/nodes", real, nil); r.Status != 200 {
		t.Fatalf("real key after the spray: %d %s", r.Status, r.Raw)
	}
	time.Sleep(time.Second) // the spare lookups of the spray's second are used up
	fresh := s.mustKey(tenant, keyOpts{})
	if r := s.call(http.MethodGet, "/api/v1/nodes", fresh, nil); r.Status != 200 {
		t.Fatalf("a key created just now: %d %s", r.Status, r.Raw)
	}
}

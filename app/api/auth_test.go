package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/api"
)

// Ensure every authentication and scope failure answers the exact status
// and detail of the contract.
func TestAuthFailures(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, good := s.tenantWithKey("acme")
	past := time.Now().Add(-time.Minute)
	future := time.Now().Add(time.Hour)
	revoked := s.mustKey(tenant, keyOpts{inactive: true})
	expired := s.mustKey(tenant, keyOpts{expiresAt: &past})
	notYet := s.mustKey(tenant, keyOpts{expiresAt: &future})
	checkOnly := s.mustKey(tenant, keyOpts{scopes: `["check"]`})
	noScopes := s.mustKey(tenant, keyOpts{scopes: `[]`})
	off := s.mustTenant("off")
	offKey := s.mustKey(off, keyOpts{})
	s.exec(`UPDATE tenants SET is_active = false WHERE id = $1`, off)

	cases := []struct {
		name, method, key string
		status            int
		detail            string
	}{
		{"missing", http.MethodGet, "", 401, "Not authenticated"},
		{"malformed", http.MethodGet, "cs_live_NOTHEX", 401, "Invalid API key"},
		{"unknown", http.MethodGet, "cs_live_0123456789abcdef0123456789abcdef", 401, "Invalid API key"},
		{"revoked", http.MethodGet, revoked, 401, "Invalid API key"},
		{"inactive tenant", http.MethodGet, offKey, 401, "Invalid API key"},
		{"expired", http.MethodGet, expired, 401, "API key expired"},
		{"check key writes", http.MethodPost, checkOnly, 403, "Requires scope: prep"},
		{"no scope reads", http.MethodGet, noScopes, 403, "Requires scope: prep or check"},
		{"check key reads", http.MethodGet, checkOnly, 200, ""},
		{"not yet expired", http.MethodGet, notYet, 200, ""},
		{"good", http.MethodGet, good, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == http.MethodPost {
				body = map[string]any{"title": "x"}
			}
			r := s.call(tc.method, "/api/v1/nodes", tc.key, body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.detail != "" && r.detail(t) != tc.detail {
				t.Fatalf("detail %q, want %q", r.detail(t), tc.detail)
			}
		})
	}
}

// Ensure authentication happens before validation: a garbage body without
// a key is 401, not 422.
func TestAuthBeforeValidation(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	r := s.call(http.MethodPost, "/api/v1/nodes/not-a-uuid/children", "", "{bad json")
	if r.Status != 401 {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
}

// Ensure a revoked key stops working once the lookup cache expires: the
// documented bound on how long a revocation takes to bite.
func TestRevocationBitesWithinCacheTTL(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	s := mustStack(t, func(o *api.Options) { o.KeyCacheTTL = ttl })
	_, key := s.tenantWithKey("acme")
	if r := s.call(http.MethodGet, "/api/v1/nodes", key, nil); r.Status != 200 {
		t.Fatalf("before: %d", r.Status)
	}
	s.exec(`UPDATE api_keys SET is_active = false, revoked_at = now()`)
	time.Sleep(ttl + 100*time.Millisecond)
	if r := s.call(http.MethodGet, "/api/v1/nodes", key, nil); r.Status != 401 {
		t.Fatalf("revoked key still accepted after the cache TTL: %d", r.Status)
	}
}

// Ensure the request log names the tenant and key prefix but never the key.
func TestRequestLogIdentifiesCallerWithoutSecret(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("acme")
	s.call(http.MethodGet, "/api/v1/nodes", key, nil)
	logs := s.logs.String()
	if !contains(logs, `"tenant_id":"`+tenant.String()+`"`) || !contains(logs, `"key_prefix":"`+key[:16]+`"`) {
		t.Fatalf("request log lacks the caller: %s", logs)
	}
	if contains(logs, key) {
		t.Fatal("the API key reached the log")
	}
}

// Ensure use of a key is recorded in last_used_at (asynchronously).
func TestLastUsedIsRecorded(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	s.call(http.MethodGet, "/api/v1/nodes", key, nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var used bool
		if err := s.db.Pool.QueryRow(t.Context(), `SELECT last_used_at IS NOT NULL FROM api_keys`).Scan(&used); err != nil {
			t.Fatal(err)
		}
		if used {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("last_used_at never set")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

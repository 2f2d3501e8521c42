package admintest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure a key has the documented format and displayed prefix, belongs to
// its tenant, has its scopes deduplicated in canonical order, the default
// label, and the service's default limits for the ones left unset.
func createKeyFormatAndDefaults(t testing.TB, s Subject) {
	tn := mustTenant(t, s.Admin, "acme")
	seen := map[string]bool{}
	for _, env := range []string{"live", "test", ""} {
		k, secret := mustKey(t, s.Admin, course.NewAPIKey{TenantName: " acme ", Scopes: []string{"check", " PREP", "check"}, Env: env})
		if env == "" {
			env = "live"
		}
		if !keyFormat.MatchString(secret) || !strings.HasPrefix(secret, "cs_"+env+"_") || seen[secret] {
			t.Fatalf("secret %q (env %q)", secret, env)
		}
		seen[secret] = true
		if k.Prefix != secret[:16] || k.TenantID != tn.ID || k.TenantName != "acme" {
			t.Fatalf("key %+v for secret prefix %s", k, secret[:16])
		}
		if strings.Join(k.Scopes, ",") != "prep,check" || k.Label != "default" ||
			k.RateLimitPrep != Defaults.RatePrep || k.RateLimitCheck != Defaults.RateCheck ||
			!k.IsActive || k.ExpiresAt != nil || k.RevokedAt != nil || k.LastUsedAt != nil ||
			k.StatusAt(time.Now()) != course.KeyActive {
			t.Fatalf("key %+v", k)
		}
	}
}

// Ensure an explicit label, limits and expiry are kept and listed.
func createKeyKeepsExplicitSettings(t testing.TB, s Subject) {
	mustTenant(t, s.Admin, "acme")
	exp := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Microsecond)
	k, _ := mustKey(t, s.Admin, course.NewAPIKey{TenantName: "acme", Scopes: []string{"check"}, Label: " ci ",
		RateLimitPrep: 5, RateLimitCheck: 9, ExpiresAt: &exp})
	if k.Label != "ci" || k.RateLimitPrep != 5 || k.RateLimitCheck != 9 || k.ExpiresAt == nil || !k.ExpiresAt.Equal(exp) {
		t.Fatalf("key %+v", k)
	}
	keys := mustListKeys(t, s.Admin, "acme")
	if len(keys) != 1 || keys[0].ID != k.ID || strings.Join(keys[0].Scopes, ",") != "check" || keys[0].Label != "ci" ||
		keys[0].RateLimitPrep != 5 || keys[0].RateLimitCheck != 9 || !keys[0].ExpiresAt.Equal(exp) {
		t.Fatalf("list %+v", keys)
	}
}

// Ensure invalid key input is EINVALID with a clear message, returns no
// secret and stores nothing.
func createKeyRejectsInvalidInput(t testing.TB, s Subject) {
	mustTenant(t, s.Admin, "acme")
	past := time.Now().Add(-time.Minute)
	cases := map[string]struct {
		in   course.NewAPIKey
		want string
	}{
		"unknown scope": {course.NewAPIKey{Scopes: []string{"prep", "admin"}}, "Unknown scope 'admin'; allowed: prep, check"},
		"no scope":      {course.NewAPIKey{}, "At least one scope"},
		"rate":          {course.NewAPIKey{Scopes: []string{"prep"}, RateLimitCheck: -1}, "Rate limit for check must be greater than 0"},
		"expiry":        {course.NewAPIKey{Scopes: []string{"prep"}, ExpiresAt: &past}, "is not in the future"},
		"env":           {course.NewAPIKey{Scopes: []string{"prep"}, Env: "prod"}, "Unknown key environment 'prod'"},
		"label":         {course.NewAPIKey{Scopes: []string{"prep"}, Label: strings.Repeat("x", 101)}, "Label must be at most 100"},
	}
	for name, tc := range cases {
		tc.in.TenantName = "acme"
		k, secret, err := s.Admin.CreateKey(context.Background(), tc.in)
		if k != nil || secret != "" {
			t.Fatalf("%s: a key was returned", name)
		}
		wantErr(t, err, course.EINVALID, tc.want)
	}
	if keys := mustListKeys(t, s.Admin, "acme"); len(keys) != 0 {
		t.Fatalf("%d keys stored", len(keys))
	}
}

// Ensure a tenant's keys list oldest first, revoked and expired ones
// included with their status, and no other tenant's key.
func listKeysOldestFirstIncludingUnusable(t testing.TB, s Subject) {
	ctx := context.Background()
	mustTenant(t, s.Admin, "acme")
	mustTenant(t, s.Admin, "other")
	in := course.NewAPIKey{TenantName: "acme", Scopes: []string{"prep"}}
	var want []string
	for i := range 4 {
		k, _ := mustKey(t, s.Admin, in)
		want = append(want, k.ID.String())
		if i == 1 {
			mustKey(t, s.Admin, course.NewAPIKey{TenantName: "other", Scopes: []string{"check"}})
		}
	}
	if _, err := s.Admin.RevokeKey(ctx, want[1]); err != nil {
		t.Fatal(err)
	}
	s.Expire(t, mustListKeys(t, s.Admin, "acme")[2].ID)
	var got, status []string
	now := time.Now()
	for _, k := range mustListKeys(t, s.Admin, " acme ") {
		if k.TenantName != "acme" {
			t.Fatalf("key of %q listed for acme", k.TenantName)
		}
		got = append(got, k.ID.String())
		status = append(status, k.StatusAt(now))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order %v, want creation order %v", got, want)
	}
	if strings.Join(status, ",") != "active,revoked,expired,active" {
		t.Fatalf("statuses %v", status)
	}
}

package course_test

import (
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure a generated key has the documented shape, its prefix is its
// first 16 characters, its hash is what HashKey gives, and two keys differ.
func TestNewKeySecret(t *testing.T) {
	a, err := course.NewKeySecret(course.KeyEnvTest)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := course.NewKeySecret(course.KeyEnvLive)
	if !course.ValidKey(a.Secret) || !strings.HasPrefix(a.Secret, "cs_test_") || len(a.Secret) != 40 ||
		a.Prefix != a.Secret[:16] || a.Hash != course.HashKey(a.Secret) || len(a.Hash) != 64 {
		t.Fatalf("key %+v", a)
	}
	if !strings.HasPrefix(b.Secret, "cs_live_") || a.Secret[8:] == b.Secret[8:] {
		t.Fatalf("keys %q %q", a.Secret, b.Secret)
	}
}

// Ensure only complete, lowercase keys of a known environment are valid.
func TestValidKey(t *testing.T) {
	good := "cs_live_" + strings.Repeat("0a", 16)
	for _, k := range []string{good, "cs_test_" + strings.Repeat("f", 32)} {
		if !course.ValidKey(k) {
			t.Errorf("%q rejected", k)
		}
	}
	for _, k := range []string{"", "cs_", "cs_live_", good[:39], good + "0", strings.ToUpper(good), "cs_prod_" + good[8:],
		"xs_live_" + good[8:], "cs_live_" + strings.Repeat("g", 32), "cs_live" + good[8:], " " + good} {
		if course.ValidKey(k) {
			t.Errorf("%q accepted", k)
		}
	}
}

// Ensure a selector names an id, a complete key (by hash) or a prefix of
// 1 to 8 hex characters, and nothing else.
func TestParseKeySelector(t *testing.T) {
	key := "cs_live_" + strings.Repeat("ab", 16)
	if s, err := course.ParseKeySelector(" " + strings.ToUpper(key[:3]) + key[3:] + " "); err != nil || s.Hash != course.HashKey(key) {
		t.Fatalf("full key: %+v %v", s, err)
	}
	if s, err := course.ParseKeySelector("cs_live_a"); err != nil || s.Prefix != "cs_live_a" || s.Describe != "prefix 'cs_live_a'" {
		t.Fatalf("prefix: %+v %v", s, err)
	}
	id := "0190b6a4-7c1e-7000-8000-000000000001"
	if s, err := course.ParseKeySelector(id); err != nil || s.ID == nil || s.ID.String() != id {
		t.Fatalf("id: %+v %v", s, err)
	}
	for _, bad := range []string{"", "cs_", "cs_live_", "c", "cs_live_zz", "cs_live_" + strings.Repeat("a", 9)} {
		if _, err := course.ParseKeySelector(bad); course.ErrorCode(err) != course.EINVALID {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Ensure a key is expired exactly from its expiry on, and revocation wins.
func TestKeyStatusAtBoundaries(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	cases := []struct {
		name      string
		active    bool
		revoked   *time.Time
		expires   *time.Time
		wantState string
	}{
		{"no expiry", true, nil, nil, course.KeyActive},
		{"one nanosecond before expiry", true, nil, at(time.Nanosecond), course.KeyActive},
		{"at expiry", true, nil, at(0), course.KeyExpired},
		{"after expiry", true, nil, at(-time.Second), course.KeyExpired},
		{"revoked", false, at(-time.Hour), nil, course.KeyRevoked},
		{"revoked and expired", false, at(-time.Hour), at(-time.Hour), course.KeyRevoked},
		{"deactivated without revocation time", false, nil, nil, course.KeyRevoked},
	}
	for _, tc := range cases {
		if got := course.KeyStatus(tc.active, tc.revoked, tc.expires, now); got != tc.wantState {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.wantState)
		}
	}
}

// Ensure authentication answers "Invalid API key" for revoked keys and
// inactive tenants and "API key expired" only for a usable tenant's
// expired key.
func TestKeyRecordAuthenticate(t *testing.T) {
	now := time.Now()
	past := now.Add(-time.Minute)
	cases := []struct {
		rec  course.KeyRecord
		want string
	}{
		{course.KeyRecord{KeyActive: true, TenantActive: true}, ""},
		{course.KeyRecord{KeyActive: false, TenantActive: true}, "Invalid API key"},
		{course.KeyRecord{KeyActive: true, TenantActive: false}, "Invalid API key"},
		{course.KeyRecord{KeyActive: true, TenantActive: true, ExpiresAt: &past}, "API key expired"},
		{course.KeyRecord{KeyActive: true, TenantActive: false, ExpiresAt: &past}, "Invalid API key"},
		{course.KeyRecord{KeyActive: true, TenantActive: true, ExpiresAt: &now}, "API key expired"},
	}
	for i, tc := range cases {
		p, err := tc.rec.Authenticate(now)
		switch {
		case tc.want == "" && (err != nil || p == nil):
			t.Errorf("%d: %v", i, err)
		case tc.want != "" && (course.ErrorCode(err) != course.EUNAUTHORIZED || course.ErrorMessage(err) != tc.want):
			t.Errorf("%d: %v, want %q", i, err, tc.want)
		}
	}
}

// Ensure writes need prep, reads spend check when the key holds it.
func TestPrincipalAuthorize(t *testing.T) {
	both := course.Principal{Scopes: []string{"prep", "check"}, RateLimitPrep: 1, RateLimitCheck: 2}
	prep := course.Principal{Scopes: []string{"prep"}, RateLimitPrep: 1, RateLimitCheck: 2}
	check := course.Principal{Scopes: []string{"check"}, RateLimitPrep: 1, RateLimitCheck: 2}
	none := course.Principal{}
	cases := []struct {
		p     course.Principal
		write bool
		scope string
		limit int
		err   string
	}{
		{both, true, "prep", 1, ""}, {both, false, "check", 2, ""},
		{prep, true, "prep", 1, ""}, {prep, false, "prep", 1, ""},
		{check, true, "", 0, "Requires scope: prep"}, {check, false, "check", 2, ""},
		{none, false, "", 0, "Requires scope: prep or check"},
	}
	for i, tc := range cases {
		scope, limit, err := tc.p.Authorize(tc.write)
		if scope != tc.scope || limit != tc.limit || course.ErrorMessage(err) != tc.err {
			t.Errorf("%d: %s %d %v", i, scope, limit, err)
		}
	}
}

// Ensure key input is normalised: scopes canonical, defaults applied,
// expiry in the future and in UTC.
func TestNewAPIKeyNormalize(t *testing.T) {
	now := time.Now()
	exp := now.Add(time.Hour).In(time.FixedZone("x", 3600))
	in := course.NewAPIKey{TenantName: " acme ", Scopes: []string{" Check", "prep", "check", ""}, ExpiresAt: &exp}
	out, err := in.Normalize(course.KeyDefaults{RatePrep: 7, RateCheck: 11}, now)
	if err != nil {
		t.Fatal(err)
	}
	if out.TenantName != "acme" || strings.Join(out.Scopes, ",") != "prep,check" || out.Label != "default" ||
		out.RateLimitPrep != 7 || out.RateLimitCheck != 11 || out.Env != "live" || out.ExpiresAt.Location() != time.UTC {
		t.Fatalf("normalised %+v", out)
	}
	if _, err := (course.NewAPIKey{TenantName: "a", Scopes: []string{"prep"}, ExpiresAt: &now}).Normalize(course.KeyDefaults{RatePrep: 1, RateCheck: 1}, now); course.ErrorCode(err) != course.EINVALID {
		t.Fatalf("expiry now accepted: %v", err)
	}
}

package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

var keyFormat = regexp.MustCompile(`^cs_(live|test)_[0-9a-f]{32}$`)

func newAdmin(t *testing.T) (*postgres.AdminService, *postgres.DB) {
	t.Helper()
	db := mustOpen(t, testdb.New(t))
	return postgres.NewAdminService(db, postgres.AdminDefaults{RatePrep: 7, RateCheck: 11}), db
}

// wantErr fails unless err is a domain error with code whose message
// contains every part.
func wantErr(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	if got := course.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	for _, p := range parts {
		if msg := course.ErrorMessage(err); !strings.Contains(msg, p) {
			t.Fatalf("message %q lacks %q", msg, p)
		}
	}
}

func mustTenant(t *testing.T, a *postgres.AdminService, name string) *course.Tenant {
	t.Helper()
	tn, err := a.CreateTenant(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func mustKey(t *testing.T, a *postgres.AdminService, in course.NewAPIKey) (*course.APIKey, string) {
	t.Helper()
	k, secret, err := a.CreateKey(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Ensure a tenant is created trimmed, active and with a UUIDv7 id, and a
// second tenant of the same name is a conflict that names it.
func TestCreateTenantRejectsDuplicateName(t *testing.T) {
	t.Parallel()
	a, _ := newAdmin(t)
	tn := mustTenant(t, a, "  acme  ")
	if tn.Name != "acme" || !tn.IsActive || tn.ID.Version() != 7 || tn.CreatedAt.IsZero() {
		t.Fatalf("created %+v", tn)
	}
	_, err := a.CreateTenant(context.Background(), "acme")
	wantErr(t, err, course.ECONFLICT, "Tenant 'acme' already exists")
}

// Ensure tenant names are 1..200 characters after trimming.
func TestCreateTenantValidatesName(t *testing.T) {
	t.Parallel()
	a, _ := newAdmin(t)
	for _, bad := range []string{"", "   ", strings.Repeat("é", 201), "two\nlines"} {
		_, err := a.CreateTenant(context.Background(), bad)
		wantErr(t, err, course.EINVALID, "Tenant name")
	}
	mustTenant(t, a, strings.Repeat("é", 200))
}

// Ensure every operation on an unknown tenant is ENOTFOUND naming it.
func TestUnknownTenantIsNotFound(t *testing.T) {
	t.Parallel()
	a, _ := newAdmin(t)
	ctx := context.Background()
	_, err := a.SetTenantActive(ctx, "ghost", false)
	wantErr(t, err, course.ENOTFOUND, "Tenant 'ghost' not found")
	_, _, err = a.CreateKey(ctx, course.NewAPIKey{TenantName: "ghost", Scopes: []string{"prep"}})
	wantErr(t, err, course.ENOTFOUND, "Tenant 'ghost' not found")
	_, err = a.ListKeys(ctx, "ghost")
	wantErr(t, err, course.ENOTFOUND, "Tenant 'ghost' not found")
}

// Ensure a key has the documented format, only its SHA-256 and prefix are
// stored (the secret appears in no column), scopes are normalised and the
// service defaults fill unset limits.
func TestCreateKeyStoresOnlyHashAndPrefix(t *testing.T) {
	t.Parallel()
	a, db := newAdmin(t)
	ctx := context.Background()
	tn := mustTenant(t, a, "acme")
	for _, env := range []string{"live", "test"} {
		k, secret := mustKey(t, a, course.NewAPIKey{TenantName: "acme", Scopes: []string{"check", "prep", "check"}, Env: env})
		if !keyFormat.MatchString(secret) || !strings.HasPrefix(secret, "cs_"+env+"_") {
			t.Fatalf("secret %q", secret)
		}
		if k.Prefix != secret[:16] || k.TenantID != tn.ID || k.TenantName != "acme" || k.ID.Version() != 7 {
			t.Fatalf("key %+v for secret prefix %s", k, secret[:16])
		}
		if strings.Join(k.Scopes, ",") != "prep,check" || k.Label != "default" ||
			k.RateLimitPrep != 7 || k.RateLimitCheck != 11 || !k.IsActive || k.ExpiresAt != nil {
			t.Fatalf("key %+v", k)
		}
		var hash, prefix, row string
		err := db.Pool.QueryRow(ctx, `SELECT key_hash, key_prefix, row_to_json(k)::text FROM api_keys k WHERE id = $1`,
			k.ID).Scan(&hash, &prefix, &row)
		if err != nil {
			t.Fatal(err)
		}
		if hash != sha256hex(secret) || prefix != secret[:16] {
			t.Fatalf("stored hash %s prefix %s", hash, prefix)
		}
		if strings.Contains(row, secret) || strings.Contains(row, secret[16:]) {
			t.Fatalf("the secret is stored: %s", row)
		}
	}
}

// Ensure explicit label, limits and expiry are kept.
func TestCreateKeyKeepsExplicitSettings(t *testing.T) {
	t.Parallel()
	a, _ := newAdmin(t)
	mustTenant(t, a, "acme")
	exp := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Microsecond)
	k, _ := mustKey(t, a, course.NewAPIKey{TenantName: "acme", Scopes: []string{"check"}, Label: " ci ",
		RateLimitPrep: 5, RateLimitCheck: 9, ExpiresAt: &exp})
	if k.Label != "ci" || k.RateLimitPrep != 5 || k.RateLimitCheck != 9 || k.ExpiresAt == nil || !k.ExpiresAt.Equal(exp) {
		t.Fatalf("key %+v", k)
	}
	keys, err := a.ListKeys(context.Background(), "acme")
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID || strings.Join(keys[0].Scopes, ",") != "check" {
		t.Fatalf("list %+v %v", keys, err)
	}
}

// Ensure invalid key input is EINVALID with a clear message and stores
// nothing.
func TestCreateKeyRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	a, db := newAdmin(t)
	mustTenant(t, a, "acme")
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
		_, secret, err := a.CreateKey(context.Background(), tc.in)
		if secret != "" {
			t.Fatalf("%s: a secret was returned", name)
		}
		wantErr(t, err, course.EINVALID, tc.want)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_keys`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d keys stored (%v)", n, err)
	}
}

// Ensure revocation by full prefix, short prefix, id and complete key sets
// is_active=false and revoked_at, and a second revocation is a conflict.
func TestRevokeKeyThenRevokeAgain(t *testing.T) {
	t.Parallel()
	a, _ := newAdmin(t)
	ctx := context.Background()
	mustTenant(t, a, "acme")
	in := course.NewAPIKey{TenantName: "acme", Scopes: []string{"prep"}}
	k1, _ := mustKey(t, a, in)
	k2, _ := mustKey(t, a, in)
	k3, secret3 := mustKey(t, a, in)

	for _, sel := range []string{k1.Prefix, k2.ID.String(), secret3} {
		r, err := a.RevokeKey(ctx, sel)
		if err != nil {
			t.Fatalf("revoke %s: %v", sel, err)
		}
		if r.IsActive || r.RevokedAt == nil || r.TenantName != "acme" {
			t.Fatalf("revoked %+v", r)
		}
		_, err = a.RevokeKey(ctx, sel)
		wantErr(t, err, course.ECONFLICT, "is already revoked", r.ID.String())
	}
	keys, err := a.ListKeys(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.IsActive || k.RevokedAt == nil {
			t.Fatalf("not revoked: %+v", k)
		}
	}
	k4, _ := mustKey(t, a, in)
	if r, err := a.RevokeKey(ctx, k4.Prefix[:10]); err != nil || r.ID != k4.ID {
		t.Fatalf("short prefix %s: %+v %v (k3 %s)", k4.Prefix[:10], r, err, k3.Prefix)
	}
}

// Ensure selectors that match nothing or are not selectors are rejected.
func TestRevokeKeyUnknownOrMalformed(t *testing.T) {
	t.Parallel()
	a, _ := newAdmin(t)
	ctx := context.Background()
	_, err := a.RevokeKey(ctx, "cs_live_00000000")
	wantErr(t, err, course.ENOTFOUND, "No key matches prefix 'cs_live_00000000'")
	_, err = a.RevokeKey(ctx, uuid.Must(uuid.NewV7()).String())
	wantErr(t, err, course.ENOTFOUND, "No key matches id")
	for _, bad := range []string{"", "cs_", "cs_live_", "c", "cs_live_zz"} {
		_, err = a.RevokeKey(ctx, bad)
		wantErr(t, err, course.EINVALID, "neither a key id")
	}
}

// Ensure a prefix matching several active keys revokes none and lists
// their ids, and revoking by id then works.
func TestRevokeAmbiguousPrefixListsIDs(t *testing.T) {
	t.Parallel()
	a, db := newAdmin(t)
	ctx := context.Background()
	mustTenant(t, a, "acme")
	in := course.NewAPIKey{TenantName: "acme", Scopes: []string{"check"}}
	k1, _ := mustKey(t, a, in)
	k2, _ := mustKey(t, a, in)
	if _, err := db.Pool.Exec(ctx, `UPDATE api_keys SET key_prefix = 'cs_live_abcdef01'`); err != nil {
		t.Fatal(err)
	}
	_, err := a.RevokeKey(ctx, "cs_live_ab")
	wantErr(t, err, course.ECONFLICT, "Prefix 'cs_live_ab' matches 2 active keys", k1.ID.String(), k2.ID.String(), "--id")
	if ts, _ := a.ListTenants(ctx); len(ts) != 1 || ts[0].ActiveKeys != 2 {
		t.Fatalf("a key was revoked: %+v", ts)
	}
	if _, err := a.RevokeKey(ctx, k1.ID.String()); err != nil {
		t.Fatal(err)
	}
	if r, err := a.RevokeKey(ctx, "cs_live_ab"); err != nil || r.ID != k2.ID {
		t.Fatalf("the one remaining active key: %+v %v", r, err)
	}
	_, err = a.RevokeKey(ctx, "cs_live_ab")
	wantErr(t, err, course.ECONFLICT, "All 2 keys matching prefix 'cs_live_ab' are already revoked")
}

// Ensure deactivate and activate toggle is_active and show in the list.
func TestSetTenantActiveToggles(t *testing.T) {
	t.Parallel()
	a, _ := newAdmin(t)
	ctx := context.Background()
	mustTenant(t, a, "acme")
	mustTenant(t, a, "other")
	tn, err := a.SetTenantActive(ctx, " acme ", false)
	if err != nil || tn.IsActive || tn.Name != "acme" {
		t.Fatalf("deactivate: %+v %v", tn, err)
	}
	ts, err := a.ListTenants(ctx)
	if err != nil || len(ts) != 2 || ts[0].Name != "acme" || ts[0].IsActive || !ts[1].IsActive {
		t.Fatalf("list %+v %v", ts, err)
	}
	tn, err = a.SetTenantActive(ctx, "acme", true)
	if err != nil || !tn.IsActive || tn.UpdatedAt.Before(tn.CreatedAt) {
		t.Fatalf("activate: %+v %v", tn, err)
	}
}

// Ensure the listed key count includes only active, unrevoked, unexpired
// keys, per tenant.
func TestListTenantsCountsUsableKeys(t *testing.T) {
	t.Parallel()
	a, db := newAdmin(t)
	ctx := context.Background()
	mustTenant(t, a, "b-empty")
	mustTenant(t, a, "a-busy")
	in := course.NewAPIKey{TenantName: "a-busy", Scopes: []string{"prep"}}
	future := time.Now().Add(time.Hour)
	mustKey(t, a, in)
	mustKey(t, a, course.NewAPIKey{TenantName: "a-busy", Scopes: []string{"prep"}, ExpiresAt: &future})
	revoked, _ := mustKey(t, a, in)
	expired, _ := mustKey(t, a, in)
	if _, err := a.RevokeKey(ctx, revoked.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	ts, err := a.ListTenants(ctx)
	if err != nil || len(ts) != 2 {
		t.Fatalf("%+v %v", ts, err)
	}
	if ts[0].Name != "a-busy" || ts[0].ActiveKeys != 2 || ts[1].Name != "b-empty" || ts[1].ActiveKeys != 0 {
		t.Fatalf("counts %+v", ts)
	}
}

// Package admintest is the contract of course.AdminService as tests: Run
// checks an implementation against every case, and the PostgreSQL store
// and the in-memory Fake (which the admin CLI's formatting tests use) are
// both run through it, so the fake cannot drift from the store. Each case
// is also run against deliberately broken fakes to prove it can fail.
package admintest

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Defaults are the key defaults every Subject's service must be built
// with; the cases check that unset limits take them.
var Defaults = course.KeyDefaults{RatePrep: 7, RateCheck: 11}

// Subject is one implementation under test, empty, built with Defaults.
type Subject struct {
	Admin course.AdminService
	// Expire moves key id's expiry into the past. No operation of the
	// interface can (CreateKey rejects a past expiry), yet the listing
	// must count an expired key out.
	Expire func(t testing.TB, id uuid.UUID)
}

// Case is one rule of the contract. It takes testing.TB so the suite's
// own test can run it against broken implementations and see it fail.
type Case struct {
	Name string
	Run  func(t testing.TB, s Subject)
}

// Cases lists the contract, one case per rule (tenants.go, keys.go,
// revoke.go).
func Cases() []Case {
	return []Case{
		{"CreateTenantRejectsDuplicateName", createTenantRejectsDuplicateName},
		{"CreateTenantValidatesName", createTenantValidatesName},
		{"UnknownTenantIsNotFound", unknownTenantIsNotFound},
		{"SetTenantActiveToggles", setTenantActiveToggles},
		{"ListTenantsByNameCountingUsableKeys", listTenantsByNameCountingUsableKeys},
		{"CreateKeyFormatAndDefaults", createKeyFormatAndDefaults},
		{"CreateKeyKeepsExplicitSettings", createKeyKeepsExplicitSettings},
		{"CreateKeyRejectsInvalidInput", createKeyRejectsInvalidInput},
		{"ListKeysOldestFirstIncludingUnusable", listKeysOldestFirstIncludingUnusable},
		{"RevokeKeyThenRevokeAgain", revokeKeyThenRevokeAgain},
		{"RevokeKeyUnknownOrMalformed", revokeKeyUnknownOrMalformed},
		{"RevokeAmbiguousPrefixListsIDs", revokeAmbiguousPrefixListsIDs},
	}
}

// Run runs every case on a fresh subject from newSubject, in parallel.
func Run(t *testing.T, newSubject func(t *testing.T) Subject) {
	t.Helper()
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			c.Run(t, newSubject(t))
		})
	}
}

// keyFormat is the documented shape of a secret, spelled out here rather
// than taken from course so the check is independent of the code.
var keyFormat = regexp.MustCompile(`^cs_(live|test)_[0-9a-f]{32}$`)

// wantErr fails unless err is a domain error with code whose message
// contains every part.
func wantErr(t testing.TB, err error, code string, parts ...string) {
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

func mustTenant(t testing.TB, a course.AdminService, name string) *course.Tenant {
	t.Helper()
	tn, err := a.CreateTenant(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	checkTenant(t, tn)
	return tn
}

func mustKey(t testing.TB, a course.AdminService, in course.NewAPIKey) (*course.APIKey, string) {
	t.Helper()
	k, secret, err := a.CreateKey(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkKey(t, k)
	return k, secret
}

func mustListTenants(t testing.TB, a course.AdminService) []course.Tenant {
	t.Helper()
	ts, err := a.ListTenants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range ts {
		checkTenant(t, &ts[i])
	}
	return ts
}

func mustListKeys(t testing.TB, a course.AdminService, tenant string) []course.APIKey {
	t.Helper()
	ks, err := a.ListKeys(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ks {
		checkKey(t, &ks[i])
	}
	return ks
}

// checkTenant fails unless every field the CLI prints is filled: a UUIDv7
// id, a name, and creation and update times in UTC.
func checkTenant(t testing.TB, tn *course.Tenant) {
	t.Helper()
	if tn.ID.Version() != 7 || tn.Name == "" || !isUTC(&tn.CreatedAt) || !isUTC(&tn.UpdatedAt) ||
		tn.UpdatedAt.Before(tn.CreatedAt) || tn.ActiveKeys < 0 {
		t.Fatalf("tenant fields: %+v", tn)
	}
}

// checkKey fails unless every field the CLI prints is filled and every
// time is in UTC.
func checkKey(t testing.TB, k *course.APIKey) {
	t.Helper()
	if k.ID.Version() != 7 || k.TenantID == uuid.Nil || k.TenantName == "" || len(k.Prefix) != 16 ||
		k.Label == "" || len(k.Scopes) == 0 || k.RateLimitPrep <= 0 || k.RateLimitCheck <= 0 ||
		!isUTC(&k.CreatedAt) || (k.ExpiresAt != nil && !isUTC(k.ExpiresAt)) ||
		(k.RevokedAt != nil && !isUTC(k.RevokedAt)) || (k.LastUsedAt != nil && !isUTC(k.LastUsedAt)) ||
		(k.RevokedAt != nil) == k.IsActive {
		t.Fatalf("key fields: %+v", k)
	}
}

func isUTC(at *time.Time) bool { return !at.IsZero() && at.Location() == time.UTC }

package admintest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure a tenant is created trimmed and active, and a second tenant of
// the same name is ECONFLICT naming it.
func createTenantRejectsDuplicateName(t testing.TB, s Subject) {
	tn := mustTenant(t, s.Admin, "  acme  ")
	if tn.Name != "acme" || !tn.IsActive {
		t.Fatalf("created %+v", tn)
	}
	_, err := s.Admin.CreateTenant(context.Background(), "acme")
	wantErr(t, err, course.ECONFLICT, "Tenant 'acme' already exists")
	if ts := mustListTenants(t, s.Admin); len(ts) != 1 || ts[0].ID != tn.ID {
		t.Fatalf("tenants after the conflict: %+v", ts)
	}
}

// Ensure tenant names are 1..200 characters after trimming, without
// control characters.
func createTenantValidatesName(t testing.TB, s Subject) {
	for _, bad := range []string{"", "   ", strings.Repeat("é", 201), "two\nlines"} {
		_, err := s.Admin.CreateTenant(context.Background(), bad)
		wantErr(t, err, course.EINVALID, "Tenant name")
	}
	mustTenant(t, s.Admin, strings.Repeat("é", 200))
}

// Ensure every operation on an unknown tenant is ENOTFOUND naming it.
func unknownTenantIsNotFound(t testing.TB, s Subject) {
	ctx := context.Background()
	mustTenant(t, s.Admin, "acme")
	_, err := s.Admin.SetTenantActive(ctx, "ghost", false)
	wantErr(t, err, course.ENOTFOUND, "Tenant 'ghost' not found")
	_, _, err = s.Admin.CreateKey(ctx, course.NewAPIKey{TenantName: " ghost ", Scopes: []string{"prep"}})
	wantErr(t, err, course.ENOTFOUND, "Tenant 'ghost' not found")
	_, err = s.Admin.ListKeys(ctx, "ghost")
	wantErr(t, err, course.ENOTFOUND, "Tenant 'ghost' not found")
}

// Ensure deactivate and activate toggle the tenant, trimmed by name, and
// show in the listing.
func setTenantActiveToggles(t testing.TB, s Subject) {
	ctx := context.Background()
	created := mustTenant(t, s.Admin, "acme")
	mustTenant(t, s.Admin, "other")
	tn, err := s.Admin.SetTenantActive(ctx, " acme ", false)
	if err != nil || tn.IsActive || tn.Name != "acme" || tn.ID != created.ID {
		t.Fatalf("deactivate: %+v %v", tn, err)
	}
	checkTenant(t, tn)
	ts := mustListTenants(t, s.Admin)
	if len(ts) != 2 || ts[0].Name != "acme" || ts[0].IsActive || !ts[1].IsActive {
		t.Fatalf("list %+v", ts)
	}
	tn, err = s.Admin.SetTenantActive(ctx, "acme", true)
	if err != nil || !tn.IsActive {
		t.Fatalf("activate: %+v %v", tn, err)
	}
	checkTenant(t, tn)
	if ts := mustListTenants(t, s.Admin); !ts[0].IsActive {
		t.Fatalf("list after activate %+v", ts)
	}
}

// Ensure tenants list by name, each counting only its keys that are
// active, unrevoked and unexpired.
func listTenantsByNameCountingUsableKeys(t testing.TB, s Subject) {
	ctx := context.Background()
	if ts := mustListTenants(t, s.Admin); len(ts) != 0 {
		t.Fatalf("empty service lists %+v", ts)
	}
	mustTenant(t, s.Admin, "b-empty")
	mustTenant(t, s.Admin, "c-one")
	mustTenant(t, s.Admin, "a-busy")
	in := course.NewAPIKey{TenantName: "a-busy", Scopes: []string{"prep"}}
	future := time.Now().Add(time.Hour)
	mustKey(t, s.Admin, in)
	mustKey(t, s.Admin, course.NewAPIKey{TenantName: "a-busy", Scopes: []string{"prep"}, ExpiresAt: &future})
	revoked, _ := mustKey(t, s.Admin, in)
	expired, _ := mustKey(t, s.Admin, in)
	mustKey(t, s.Admin, course.NewAPIKey{TenantName: "c-one", Scopes: []string{"check"}})
	if _, err := s.Admin.RevokeKey(ctx, revoked.ID.String()); err != nil {
		t.Fatal(err)
	}
	s.Expire(t, expired.ID)
	ts := mustListTenants(t, s.Admin)
	var got []string
	for _, tn := range ts {
		got = append(got, fmt.Sprintf("%s=%d", tn.Name, tn.ActiveKeys))
	}
	if strings.Join(got, " ") != "a-busy=2 b-empty=0 c-one=1" {
		t.Fatalf("tenants and usable keys: %v", got)
	}
}

package admintest

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure revocation by full prefix, id and complete key marks the key
// revoked (listed so too), a second revocation is ECONFLICT naming the
// key, and a short prefix selects the one active key it matches.
func revokeKeyThenRevokeAgain(t testing.TB, s Subject) {
	ctx := context.Background()
	mustTenant(t, s.Admin, "acme")
	in := course.NewAPIKey{TenantName: "acme", Scopes: []string{"prep"}}
	k1, _ := mustKey(t, s.Admin, in)
	k2, _ := mustKey(t, s.Admin, in)
	k3, secret3 := mustKey(t, s.Admin, in)
	for i, sel := range []string{k1.Prefix, " " + k2.ID.String() + " ", secret3} {
		r, err := s.Admin.RevokeKey(ctx, sel)
		if err != nil {
			t.Fatalf("revoke %s: %v", sel, err)
		}
		checkKey(t, r)
		if want := []string{k1.ID.String(), k2.ID.String(), k3.ID.String()}[i]; r.ID.String() != want ||
			r.IsActive || r.RevokedAt == nil || r.TenantName != "acme" || r.Label != "default" {
			t.Fatalf("revoked %+v, want key %s", r, want)
		}
		_, err = s.Admin.RevokeKey(ctx, sel)
		wantErr(t, err, course.ECONFLICT, "is already revoked", r.ID.String(), r.Prefix)
	}
	for _, k := range mustListKeys(t, s.Admin, "acme") {
		if k.IsActive || k.RevokedAt == nil || k.StatusAt(k.CreatedAt) != course.KeyRevoked {
			t.Fatalf("not revoked: %+v", k)
		}
	}
	k4, _ := mustKey(t, s.Admin, in)
	if r, err := s.Admin.RevokeKey(ctx, k4.Prefix[:10]); err != nil || r.ID != k4.ID {
		t.Fatalf("short prefix %s: %+v %v", k4.Prefix[:10], r, err)
	}
	if ts := mustListTenants(t, s.Admin); ts[0].ActiveKeys != 0 {
		t.Fatalf("active keys after revoking all: %d", ts[0].ActiveKeys)
	}
}

// Ensure selectors that match nothing are ENOTFOUND and strings that are
// not selectors are EINVALID.
func revokeKeyUnknownOrMalformed(t testing.TB, s Subject) {
	ctx := context.Background()
	mustTenant(t, s.Admin, "acme")
	k, _ := mustKey(t, s.Admin, course.NewAPIKey{TenantName: "acme", Scopes: []string{"prep"}})
	other := "cs_live_0"
	if k.Prefix[8] == '0' {
		other = "cs_live_1"
	}
	_, err := s.Admin.RevokeKey(ctx, other)
	wantErr(t, err, course.ENOTFOUND, "No key matches prefix '"+other+"'")
	_, err = s.Admin.RevokeKey(ctx, "cs_test_"+k.Prefix[8:])
	wantErr(t, err, course.ENOTFOUND, "No key matches prefix")
	id := uuid.Must(uuid.NewV7()).String()
	_, err = s.Admin.RevokeKey(ctx, id)
	wantErr(t, err, course.ENOTFOUND, "No key matches id '"+id+"'")
	for _, bad := range []string{"", "cs_", "cs_live_", "c", "cs_live_zz", "cs_prod_1a"} {
		_, err = s.Admin.RevokeKey(ctx, bad)
		wantErr(t, err, course.EINVALID, "neither a key id")
	}
	if ks := mustListKeys(t, s.Admin, "acme"); !ks[0].IsActive {
		t.Fatalf("a failed revocation revoked %+v", ks[0])
	}
}

// Ensure a prefix matching several active keys revokes none and lists
// all their ids; once all but one are revoked by id the prefix revokes
// that one, and then it is ECONFLICT counting the revoked matches. Among
// seventeen keys two always share their first hex character.
func revokeAmbiguousPrefixListsIDs(t testing.TB, s Subject) {
	ctx := context.Background()
	mustTenant(t, s.Admin, "acme")
	byFirst := map[string][]*course.APIKey{}
	var prefix string
	for range 17 {
		k, _ := mustKey(t, s.Admin, course.NewAPIKey{TenantName: "acme", Scopes: []string{"check"}})
		p := k.Prefix[:9]
		byFirst[p] = append(byFirst[p], k)
		if len(byFirst[p]) == 2 && prefix == "" {
			prefix = p
		}
	}
	group := byFirst[prefix]
	want := []string{fmt.Sprintf("Prefix '%s' matches %d active keys", prefix, len(group)), "--id"}
	for _, k := range group {
		want = append(want, k.ID.String())
	}
	_, err := s.Admin.RevokeKey(ctx, prefix)
	wantErr(t, err, course.ECONFLICT, want...)
	if ts := mustListTenants(t, s.Admin); ts[0].ActiveKeys != 17 {
		t.Fatalf("a key was revoked: %+v", ts)
	}
	last := group[len(group)-1]
	for _, k := range group[:len(group)-1] {
		if _, err := s.Admin.RevokeKey(ctx, k.ID.String()); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.Admin.RevokeKey(ctx, prefix); err != nil || r.ID != last.ID {
		t.Fatalf("the one remaining active key %s: %+v %v", last.ID, r, err)
	}
	_, err = s.Admin.RevokeKey(ctx, prefix)
	wantErr(t, err, course.ECONFLICT, fmt.Sprintf("All %d keys matching prefix '%s' are already revoked", len(group), prefix))
}

package course

import (
	"strings"
	"time"
)

// TenantNotFound is the ENOTFOUND answer of every admin operation given
// an unknown tenant name.
func TenantNotFound(name string) error {
	return Errorf(ENOTFOUND, "Tenant '%s' not found", name)
}

// TenantExists is the ECONFLICT answer to creating a tenant whose name is
// taken.
func TenantExists(name string) error {
	return Errorf(ECONFLICT, "Tenant '%s' already exists", name)
}

// PickRevocable decides which key a revocation by sel acts on, among the
// keys sel matches (oldest first): the one active key, or the error that
// says why there is not exactly one. ENOTFOUND when nothing matches;
// ECONFLICT naming the ids when several active keys match (nothing is
// revoked, the operator picks one by id) or when every match is already
// revoked. An expired key can still be revoked.
func PickRevocable(matches []APIKey, sel KeySelector) (*APIKey, error) {
	var active []*APIKey
	for i := range matches {
		if matches[i].IsActive && matches[i].RevokedAt == nil {
			active = append(active, &matches[i])
		}
	}
	switch {
	case len(matches) == 0:
		return nil, Errorf(ENOTFOUND, "No key matches %s", sel.Describe)
	case len(active) == 1:
		return active[0], nil
	case len(active) > 1:
		ids := make([]string, len(active))
		for i, a := range active {
			ids[i] = a.ID.String()
		}
		return nil, Errorf(ECONFLICT, "%s matches %d active keys: %s; revoke by --id",
			capitalize(sel.Describe), len(active), strings.Join(ids, ", "))
	case len(matches) == 1:
		return nil, KeyAlreadyRevoked(&matches[0])
	default:
		return nil, Errorf(ECONFLICT, "All %d keys matching %s are already revoked", len(matches), sel.Describe)
	}
}

// KeyAlreadyRevoked is the ECONFLICT answer to revoking a revoked key.
func KeyAlreadyRevoked(k *APIKey) error {
	when := ""
	if k.RevokedAt != nil {
		when = " (at " + k.RevokedAt.UTC().Format(time.RFC3339) + ")"
	}
	return Errorf(ECONFLICT, "Key %s (id %s) is already revoked%s", k.Prefix, k.ID, when)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

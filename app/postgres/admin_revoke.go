package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/course-supporter/course-supporter/app/course"
)

// RevokeKey revokes the one active key selected by prefixOrID: a key id
// (UUID), a prefix of a stored key_prefix (at least "cs_live_" and one hex
// character, up to the full "cs_live_1a2b3c4d"), or the complete key.
func (s *AdminService) RevokeKey(ctx context.Context, prefixOrID string) (*course.APIKey, error) {
	db := s.db.Gorm.WithContext(ctx)
	q := db.Table("api_keys AS k").Select("k.*, t.name AS tenant_name").
		Joins("JOIN tenants AS t ON t.id = k.tenant_id").Order("k.created_at, k.id")
	sel, err := course.ParseKeySelector(prefixOrID)
	if err != nil {
		return nil, err
	}
	switch {
	case sel.ID != nil:
		q = q.Where("k.id = ?", *sel.ID)
	case sel.Hash != "":
		q = q.Where("k.key_hash = ?", sel.Hash)
	default:
		q = q.Where("starts_with(k.key_prefix, ?)", sel.Prefix)
	}
	what := sel.Describe
	var matches []apiKeyTenantRow
	if err := q.Scan(&matches).Error; err != nil {
		return nil, fmt.Errorf("find keys to revoke: %w", err)
	}
	target, err := pickActiveKey(matches, what)
	if err != nil {
		return nil, err
	}
	var rows []apiKeyRow
	res := db.Model(&rows).Clauses(clause.Returning{}).
		Where("id = ? AND is_active AND revoked_at IS NULL", target.Key.ID).
		Updates(map[string]any{"is_active": false, "revoked_at": gorm.Expr("now()")})
	if res.Error != nil {
		return nil, fmt.Errorf("revoke key: %w", res.Error)
	}
	if len(rows) == 0 { // revoked by someone else in between
		return nil, alreadyRevoked(target.Key)
	}
	k := toAPIKey(rows[0], target.TenantName)
	return &k, nil
}

// pickActiveKey returns the one active key among matches, or the error
// that explains why there is not exactly one.
func pickActiveKey(matches []apiKeyTenantRow, what string) (*apiKeyTenantRow, error) {
	var active []apiKeyTenantRow
	for _, m := range matches {
		if m.Key.IsActive && m.Key.RevokedAt == nil {
			active = append(active, m)
		}
	}
	switch {
	case len(matches) == 0:
		return nil, course.Errorf(course.ENOTFOUND, "No key matches %s", what)
	case len(active) == 1:
		return &active[0], nil
	case len(active) > 1:
		ids := make([]string, len(active))
		for i, a := range active {
			ids[i] = a.Key.ID.String()
		}
		return nil, course.Errorf(course.ECONFLICT, "%s matches %d active keys: %s; revoke by --id",
			capitalize(what), len(active), strings.Join(ids, ", "))
	case len(matches) == 1:
		return nil, alreadyRevoked(matches[0].Key)
	default:
		return nil, course.Errorf(course.ECONFLICT, "All %d keys matching %s are already revoked", len(matches), what)
	}
}

func alreadyRevoked(r apiKeyRow) error {
	when := ""
	if r.RevokedAt != nil {
		when = " (at " + r.RevokedAt.UTC().Format(time.RFC3339) + ")"
	}
	return course.Errorf(course.ECONFLICT, "Key %s (id %s) is already revoked%s", r.KeyPrefix, r.ID, when)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

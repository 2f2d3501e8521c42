package postgres

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/course-supporter/course-supporter/app/course"
)

// RevokeKey revokes the one active key selected by prefixOrID: a key id
// (UUID), a prefix of a stored key_prefix (at least "cs_live_" and one hex
// character, up to the full "cs_live_1a2b3c4d"), or the complete key.
// course.PickRevocable decides among the matches.
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
	var rows []apiKeyTenantRow
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("find keys to revoke: %w", err)
	}
	matches := make([]course.APIKey, 0, len(rows))
	for _, r := range rows {
		matches = append(matches, toAPIKey(r.Key, r.TenantName))
	}
	target, err := course.PickRevocable(matches, sel)
	if err != nil {
		return nil, err
	}
	var updated []apiKeyRow
	res := db.Model(&updated).Clauses(clause.Returning{}).
		Where("id = ? AND is_active AND revoked_at IS NULL", target.ID).
		Updates(map[string]any{"is_active": false, "revoked_at": gorm.Expr("now()")})
	if res.Error != nil {
		return nil, fmt.Errorf("revoke key: %w", res.Error)
	}
	if len(updated) == 0 { // revoked by someone else in between
		return nil, course.KeyAlreadyRevoked(target)
	}
	k := toAPIKey(updated[0], target.TenantName)
	return &k, nil
}

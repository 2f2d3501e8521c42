package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/course-supporter/course-supporter/app/course"
)

// CreateKey creates a key for an existing tenant and returns it with the
// full secret, which is not stored and cannot be shown again.
func (s *AdminService) CreateKey(ctx context.Context, in course.NewAPIKey) (*course.APIKey, string, error) {
	var (
		key    *course.APIKey
		secret string
	)
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		key, secret, err = s.createKey(tx, in)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

func (s *AdminService) createKey(tx *gorm.DB, in course.NewAPIKey) (*course.APIKey, string, error) {
	in, err := in.Normalize(s.defaults, time.Now())
	if err != nil {
		return nil, "", err
	}
	tenant, err := findTenant(tx, in.TenantName)
	if err != nil {
		return nil, "", err
	}
	ks, err := course.NewKeySecret(in.Env)
	if err != nil {
		return nil, "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, "", fmt.Errorf("new key id: %w", err)
	}
	row := apiKeyRow{
		ID: id, TenantID: tenant.ID, KeyHash: ks.Hash, KeyPrefix: ks.Prefix,
		Label: in.Label, Scopes: in.Scopes, RateLimitPrep: in.RateLimitPrep, RateLimitCheck: in.RateLimitCheck,
		IsActive: true, ExpiresAt: in.ExpiresAt,
	}
	if err := tx.Clauses(clause.Returning{}).Create(&row).Error; err != nil {
		// A clash of 128 random bits: report it rather than retry silently.
		return nil, "", conflictIfDuplicate(err, "create key",
			course.Errorf(course.ECONFLICT, "A key with the same hash already exists; try again"))
	}
	k := toAPIKey(row, tenant.Name)
	return &k, ks.Secret, nil
}

// ListKeys returns every key of a tenant, revoked and expired ones
// included, oldest first.
func (s *AdminService) ListKeys(ctx context.Context, tenantName string) ([]course.APIKey, error) {
	name, err := course.NormalizeTenantName(tenantName)
	if err != nil {
		return nil, err
	}
	db := s.db.Gorm.WithContext(ctx)
	tenant, err := findTenant(db, name)
	if err != nil {
		return nil, err
	}
	var rows []apiKeyRow
	if err := db.Where("tenant_id = ?", tenant.ID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	out := make([]course.APIKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, toAPIKey(r, tenant.Name))
	}
	return out, nil
}

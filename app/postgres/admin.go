package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/course-supporter/course-supporter/app/course"
)

// AdminDefaults are the rate limits a new key gets when its input leaves
// them at zero; the values come from the configuration.
type AdminDefaults = course.KeyDefaults

// AdminService manages tenants and API keys for the admin CLI.
type AdminService struct {
	db       *DB
	defaults AdminDefaults
}

var _ course.AdminService = (*AdminService)(nil)

// NewAdminService returns the admin service on db; defaults fill the rate
// limits a new key leaves at zero.
func NewAdminService(db *DB, defaults AdminDefaults) *AdminService {
	return &AdminService{db: db, defaults: defaults}
}

// CreateTenant inserts an active tenant.
func (s *AdminService) CreateTenant(ctx context.Context, name string) (*course.Tenant, error) {
	return createTenant(s.db.Gorm.WithContext(ctx), name)
}

func createTenant(tx *gorm.DB, name string) (*course.Tenant, error) {
	n, err := course.NormalizeTenantName(name)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new tenant id: %w", err)
	}
	row := tenantRow{ID: id, Name: n, IsActive: true}
	if err := tx.Clauses(clause.Returning{}).Create(&row).Error; err != nil {
		return nil, conflictIfDuplicate(err, "create tenant", course.TenantExists(n))
	}
	t := toTenant(row)
	return &t, nil
}

// ListTenants returns every tenant by name, each with the number of its
// keys that are active at this moment (course.KeyStatus decides).
func (s *AdminService) ListTenants(ctx context.Context) ([]course.Tenant, error) {
	db := s.db.Gorm.WithContext(ctx)
	var rows []tenantRow
	if err := db.Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	var keys []apiKeyRow
	if err := db.Select("tenant_id, is_active, revoked_at, expires_at").Find(&keys).Error; err != nil {
		return nil, fmt.Errorf("list tenant keys: %w", err)
	}
	now := time.Now()
	active := map[uuid.UUID]int{}
	for _, k := range keys {
		if course.KeyStatus(k.IsActive, k.RevokedAt, k.ExpiresAt, now) == course.KeyActive {
			active[k.TenantID]++
		}
	}
	out := make([]course.Tenant, 0, len(rows))
	for _, r := range rows {
		t := toTenant(r)
		t.ActiveKeys = active[r.ID]
		out = append(out, t)
	}
	return out, nil
}

// SetTenantActive activates or deactivates a tenant by name. Deactivation
// takes effect on the next request of any of its keys.
func (s *AdminService) SetTenantActive(ctx context.Context, name string, active bool) (*course.Tenant, error) {
	n, err := course.NormalizeTenantName(name)
	if err != nil {
		return nil, err
	}
	var rows []tenantRow
	res := s.db.Gorm.WithContext(ctx).Model(&rows).Clauses(clause.Returning{}).
		Where("name = ?", n).Update("is_active", active)
	if res.Error != nil {
		return nil, fmt.Errorf("set tenant active: %w", res.Error)
	}
	if len(rows) == 0 {
		return nil, course.TenantNotFound(n)
	}
	t := toTenant(rows[0])
	return &t, nil
}

// findTenant loads a tenant by (already normalised) name.
func findTenant(tx *gorm.DB, name string) (*tenantRow, error) {
	var row tenantRow
	err := tx.Where("name = ?", name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, course.TenantNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("find tenant: %w", err)
	}
	return &row, nil
}

package postgres

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// tenantRow is one row of tenants. created_at and updated_at come from the
// database (server default and the set_updated_at trigger).
type tenantRow struct {
	ID        uuid.UUID `gorm:"column:id;type:uuid;primaryKey"`
	Name      string    `gorm:"column:name"`
	IsActive  bool      `gorm:"column:is_active"`
	CreatedAt time.Time `gorm:"column:created_at;default:now();autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"column:updated_at;default:now();autoUpdateTime:false"`
}

// TableName implements gorm's Tabler.
func (tenantRow) TableName() string { return "tenants" }

// apiKeyRow is one row of api_keys. KeyHash is the SHA-256 hex of the
// secret; the secret itself is never stored.
type apiKeyRow struct {
	ID             uuid.UUID  `gorm:"column:id;type:uuid;primaryKey"`
	TenantID       uuid.UUID  `gorm:"column:tenant_id;type:uuid"`
	KeyHash        string     `gorm:"column:key_hash"`
	KeyPrefix      string     `gorm:"column:key_prefix"`
	Label          string     `gorm:"column:label"`
	Scopes         scopeList  `gorm:"column:scopes;type:jsonb"`
	RateLimitPrep  int        `gorm:"column:rate_limit_prep"`
	RateLimitCheck int        `gorm:"column:rate_limit_check"`
	IsActive       bool       `gorm:"column:is_active"`
	ExpiresAt      *time.Time `gorm:"column:expires_at"`
	LastUsedAt     *time.Time `gorm:"column:last_used_at"`
	RevokedAt      *time.Time `gorm:"column:revoked_at"`
	CreatedAt      time.Time  `gorm:"column:created_at;default:now();autoCreateTime:false"`
}

// TableName implements gorm's Tabler.
func (apiKeyRow) TableName() string { return "api_keys" }

// apiKeyTenantRow is a key joined with the name of its tenant.
type apiKeyTenantRow struct {
	Key        apiKeyRow `gorm:"embedded"`
	TenantName string    `gorm:"column:tenant_name"`
}

// scopeList is the jsonb array of scopes.
type scopeList []string

// Value implements driver.Valuer: always a JSON array, never null.
func (s scopeList) Value() (driver.Value, error) {
	if s == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(s))
	if err != nil {
		return nil, fmt.Errorf("encode scopes: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (s *scopeList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*s = nil
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("scan scopes: unsupported type %T", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("decode scopes: %w", err)
	}
	*s = out
	return nil
}

func toTenant(r tenantRow) course.Tenant {
	return course.Tenant{
		ID:        r.ID,
		Name:      r.Name,
		IsActive:  r.IsActive,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func toAPIKey(r apiKeyRow, tenantName string) course.APIKey {
	return course.APIKey{
		ID:             r.ID,
		TenantID:       r.TenantID,
		TenantName:     tenantName,
		Prefix:         r.KeyPrefix,
		Label:          r.Label,
		Scopes:         append([]string{}, r.Scopes...),
		RateLimitPrep:  r.RateLimitPrep,
		RateLimitCheck: r.RateLimitCheck,
		IsActive:       r.IsActive,
		ExpiresAt:      utc(r.ExpiresAt),
		LastUsedAt:     utc(r.LastUsedAt),
		RevokedAt:      utc(r.RevokedAt),
		CreatedAt:      r.CreatedAt.UTC(),
	}
}

// conflictIfDuplicate turns a unique violation (gorm.ErrDuplicatedKey,
// since TranslateError is on) into the given conflict error and wraps any
// other error with op. It returns nil for nil.
func conflictIfDuplicate(err error, op string, conflict error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return conflict
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

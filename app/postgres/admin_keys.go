package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/course-supporter/course-supporter/app/course"
)

// keyPrefixHexLen is how many hex characters of the secret the stored,
// displayable prefix keeps (cs_live_ + 8 = 16 = varchar(16)).
const keyPrefixHexLen = 8

// newSecret returns a fresh key "cs_{env}_" + 32 lowercase hex characters
// from crypto/rand, its SHA-256 hex and its prefix.
func newSecret(env string) (secret, hash, prefix string, err error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("generate key: %w", err)
	}
	h := hex.EncodeToString(b[:])
	secret = "cs_" + env + "_" + h
	return secret, keyHashOf(secret), "cs_" + env + "_" + h[:keyPrefixHexLen], nil
}

// keyHashOf is the SHA-256 hex of a presented key, as stored in key_hash.
func keyHashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

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
	row, err := s.keyRowFrom(in)
	if err != nil {
		return nil, "", err
	}
	name, err := normTenantName(in.TenantName)
	if err != nil {
		return nil, "", err
	}
	tenant, err := findTenant(tx, name)
	if err != nil {
		return nil, "", err
	}
	env, err := normEnv(in.Env)
	if err != nil {
		return nil, "", err
	}
	secret, hash, prefix, err := newSecret(env)
	if err != nil {
		return nil, "", err
	}
	if row.ID, err = uuid.NewV7(); err != nil {
		return nil, "", fmt.Errorf("new key id: %w", err)
	}
	row.TenantID, row.KeyHash, row.KeyPrefix = tenant.ID, hash, prefix
	if err := tx.Clauses(clause.Returning{}).Create(&row).Error; err != nil {
		// A clash of 128 random bits: report it rather than retry silently.
		return nil, "", conflictIfDuplicate(err, "create key", "A key with the same hash already exists; try again")
	}
	k := toAPIKey(row, tenant.Name)
	return &k, secret, nil
}

// keyRowFrom validates everything in the input that needs no database.
func (s *AdminService) keyRowFrom(in course.NewAPIKey) (apiKeyRow, error) {
	scopes, err := normScopes(in.Scopes)
	if err != nil {
		return apiKeyRow{}, err
	}
	label, err := normLabel(in.Label)
	if err != nil {
		return apiKeyRow{}, err
	}
	prep, err := normRate(in.RateLimitPrep, s.defaults.RatePrep, course.ScopePrep)
	if err != nil {
		return apiKeyRow{}, err
	}
	check, err := normRate(in.RateLimitCheck, s.defaults.RateCheck, course.ScopeCheck)
	if err != nil {
		return apiKeyRow{}, err
	}
	expires, err := checkExpiry(in.ExpiresAt, time.Now())
	if err != nil {
		return apiKeyRow{}, err
	}
	return apiKeyRow{
		Label: label, Scopes: scopes, RateLimitPrep: prep, RateLimitCheck: check,
		IsActive: true, ExpiresAt: expires,
	}, nil
}

// ListKeys returns every key of a tenant, revoked and expired ones
// included, oldest first.
func (s *AdminService) ListKeys(ctx context.Context, tenantName string) ([]course.APIKey, error) {
	name, err := normTenantName(tenantName)
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

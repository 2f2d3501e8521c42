package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/course"
)

// KeyStore looks up API keys for authentication.
type KeyStore struct{ db *DB }

var _ course.KeyStore = (*KeyStore)(nil)

// NewKeyStore returns a KeyStore on db.
func NewKeyStore(db *DB) *KeyStore { return &KeyStore{db: db} }

// LookupKey finds a key by the SHA-256 hex of the presented secret, joined
// with its tenant. It uses the unique index on key_hash.
func (s *KeyStore) LookupKey(ctx context.Context, keyHash string) (*course.KeyRecord, error) {
	var (
		r      course.KeyRecord
		scopes []byte
	)
	err := s.db.Pool.QueryRow(ctx, `
		SELECT k.id, k.key_prefix, k.scopes, k.rate_limit_prep, k.rate_limit_check, k.is_active,
		       k.expires_at, t.id, t.name, t.is_active
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
		WHERE k.key_hash = $1`, keyHash).Scan(
		&r.KeyID, &r.KeyPrefix, &scopes, &r.RateLimitPrep, &r.RateLimitCheck, &r.KeyActive,
		&r.ExpiresAt, &r.TenantID, &r.TenantName, &r.TenantActive)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, course.Errorf(course.ENOTFOUND, "API key not found")
	}
	if err != nil {
		return nil, fmt.Errorf("lookup api key: %w", err)
	}
	if err := json.Unmarshal(scopes, &r.Scopes); err != nil {
		return nil, fmt.Errorf("decode scopes: %w", err)
	}
	return &r, nil
}

// KeyHashes lists the key_hash of every key (one row per key issued; the
// hashes are what the table already holds, never a secret).
func (s *KeyStore) KeyHashes(ctx context.Context) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT key_hash FROM api_keys`)
	if err != nil {
		return nil, fmt.Errorf("list key hashes: %w", err)
	}
	hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list key hashes: %w", err)
	}
	return hashes, nil
}

// TouchKey records the last use of a key, at most once per
// course.KeyTouchEvery, so the hot path never writes on every request.
func (s *KeyStore) TouchKey(ctx context.Context, keyID uuid.UUID) error {
	_, err := s.db.Pool.Exec(ctx, `
		UPDATE api_keys SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - $2::interval)`,
		keyID, course.KeyTouchEvery.String())
	if err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

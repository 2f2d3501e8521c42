package course

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// An API key is "cs_" + environment + "_" + 32 lowercase hex characters
// (128 random bits). Only its SHA-256 is stored, with a displayable prefix
// of the first 8 hex characters ("cs_live_1a2b3c4d", 16 characters). This
// file is the one place that knows the format: authentication, the admin
// CLI and the store all call it (docs/design/api.md, "Authentication").
const (
	keyHexLen       = 32
	keyPrefixHexLen = 8
	// KeyLen is the length of a complete key ("cs_live_" + 32 hex).
	KeyLen = len("cs_live_") + keyHexLen
)

// Key environments: live keys for production use, test keys for
// development and CI. They behave the same; the word only helps people.
const (
	KeyEnvLive = "live"
	KeyEnvTest = "test"
)

// Key statuses as shown to operators. Exactly one applies at a given time.
const (
	KeyActive  = "active"
	KeyExpired = "expired"
	KeyRevoked = "revoked"
)

// KeyTouchEvery bounds how often a key's last use is written: the hot
// path never writes on every request.
const KeyTouchEvery = 5 * time.Minute

// KeySecret is a freshly generated key: the secret, shown once, and what
// is stored instead of it.
type KeySecret struct {
	Secret string
	Hash   string // SHA-256 hex, api_keys.key_hash
	Prefix string // "cs_live_" + 8 hex, api_keys.key_prefix
}

// NewKeySecret generates a key of env (live or test) from crypto/rand.
func NewKeySecret(env string) (KeySecret, error) {
	var b [keyHexLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return KeySecret{}, fmt.Errorf("generate key: %w", err)
	}
	h := hex.EncodeToString(b[:])
	secret := "cs_" + env + "_" + h
	return KeySecret{Secret: secret, Hash: HashKey(secret), Prefix: "cs_" + env + "_" + h[:keyPrefixHexLen]}, nil
}

// HashKey is the SHA-256 hex of a presented key, as stored in key_hash.
func HashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// splitKey parses "cs_<env>_<hex>" where env is live or test and hex is 1
// to 32 lowercase hex characters; ok is false for anything else.
func splitKey(s string) (env, hexPart string, ok bool) {
	rest, found := strings.CutPrefix(s, "cs_")
	if !found {
		return "", "", false
	}
	env, hexPart, found = strings.Cut(rest, "_")
	if !found || (env != KeyEnvLive && env != KeyEnvTest) || hexPart == "" || len(hexPart) > keyHexLen {
		return "", "", false
	}
	for _, c := range hexPart {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", "", false
		}
	}
	return env, hexPart, true
}

// ValidKey reports whether raw has the shape of a complete key. A key of
// another shape is rejected before any lookup.
func ValidKey(raw string) bool {
	_, h, ok := splitKey(raw)
	return ok && len(h) == keyHexLen
}

// KeySelector is how an operator names one key to revoke: exactly one of
// ID, Hash (a complete key was given) or Prefix is set. Describe says
// which, for messages.
type KeySelector struct {
	ID       *uuid.UUID
	Hash     string
	Prefix   string
	Describe string
}

// ParseKeySelector accepts a key id (UUID), a complete key, or a stored
// prefix or any shortening of it that still names the environment and at
// least one hex character, so a stray "cs_" can never select a key.
func ParseKeySelector(s string) (KeySelector, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if id, err := uuid.Parse(in); err == nil {
		return KeySelector{ID: &id, Describe: fmt.Sprintf("id '%s'", id)}, nil
	}
	if _, h, ok := splitKey(in); ok {
		switch {
		case len(h) == keyHexLen:
			return KeySelector{Hash: HashKey(in), Describe: "the given key"}, nil
		case len(h) <= keyPrefixHexLen:
			return KeySelector{Prefix: in, Describe: fmt.Sprintf("prefix '%s'", in)}, nil
		}
	}
	return KeySelector{}, Errorf(EINVALID,
		"'%s' is neither a key id (UUID) nor a key prefix such as cs_live_1a2b3c4d", strings.TrimSpace(s))
}

// KeyStatus decides a key's status at now: a deactivated or revoked key is
// revoked, one whose expiry is not after now is expired, else active.
func KeyStatus(isActive bool, revokedAt, expiresAt *time.Time, now time.Time) string {
	switch {
	case !isActive || revokedAt != nil:
		return KeyRevoked
	case expiresAt != nil && !expiresAt.After(now):
		return KeyExpired
	default:
		return KeyActive
	}
}

// StatusAt is the key's status at now.
func (k *APIKey) StatusAt(now time.Time) string {
	return KeyStatus(k.IsActive, k.RevokedAt, k.ExpiresAt, now)
}

// Authenticate decides whether a presented key that was found admits its
// caller at now: EUNAUTHORIZED "Invalid API key" for a revoked key or an
// inactive tenant, "API key expired" for an expired key.
func (r *KeyRecord) Authenticate(now time.Time) (*Principal, error) {
	status := KeyStatus(r.KeyActive, nil, r.ExpiresAt, now)
	switch {
	case status == KeyRevoked || !r.TenantActive:
		return nil, ErrInvalidKey()
	case status == KeyExpired:
		return nil, Errorf(EUNAUTHORIZED, "API key expired")
	}
	p := r.Principal
	return &p, nil
}

// ErrInvalidKey is the one answer to a key that is malformed, unknown,
// revoked or whose tenant is inactive: the caller learns nothing more.
func ErrInvalidKey() error { return Errorf(EUNAUTHORIZED, "Invalid API key") }

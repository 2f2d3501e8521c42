package course

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Scopes an API key can carry. prep may call every endpoint; check only
// the read endpoints.
const (
	ScopePrep  = "prep"
	ScopeCheck = "check"
)

// Tenant is a customer organisation. Tenants are deactivated, never deleted.
type Tenant struct {
	ID         uuid.UUID
	Name       string
	IsActive   bool
	ActiveKeys int // keys that are active, unrevoked and unexpired (listing only)
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// APIKey is the stored, public part of a key: the secret itself is shown
// once at creation and only its SHA-256 is kept.
type APIKey struct {
	ID             uuid.UUID
	TenantID       uuid.UUID
	TenantName     string
	Prefix         string // "cs_live_" + first 8 hex characters
	Label          string
	Scopes         []string
	RateLimitPrep  int
	RateLimitCheck int
	IsActive       bool
	ExpiresAt      *time.Time
	LastUsedAt     *time.Time
	RevokedAt      *time.Time
	CreatedAt      time.Time
}

// NewAPIKey is the input of AdminService.CreateKey.
type NewAPIKey struct {
	TenantName     string
	Scopes         []string
	Label          string
	RateLimitPrep  int
	RateLimitCheck int
	ExpiresAt      *time.Time
	Env            string // "live" or "test"
}

// AdminService manages tenants and keys; it is reachable only from the
// admin CLI, never over HTTP.
type AdminService interface {
	// CreateTenant returns ECONFLICT for a duplicate name, EINVALID for a bad one.
	CreateTenant(ctx context.Context, name string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
	// SetTenantActive returns ENOTFOUND for an unknown name.
	SetTenantActive(ctx context.Context, name string, active bool) (*Tenant, error)
	// CreateKey returns the stored key and the full secret, which is never
	// retrievable again. ENOTFOUND for an unknown tenant, EINVALID for
	// unknown scopes or limits.
	CreateKey(ctx context.Context, in NewAPIKey) (*APIKey, string, error)
	// ListKeys returns ENOTFOUND for an unknown tenant.
	ListKeys(ctx context.Context, tenantName string) ([]APIKey, error)
	// RevokeKey revokes the one active key whose prefix (or id) matches.
	// ENOTFOUND when none matches, ECONFLICT when several active keys match
	// (the message lists their ids) or the key is already revoked.
	RevokeKey(ctx context.Context, prefixOrID string) (*APIKey, error)
}

// Principal is the authenticated caller of one request.
type Principal struct {
	TenantID       uuid.UUID
	TenantName     string
	KeyID          uuid.UUID
	KeyPrefix      string
	Scopes         []string
	RateLimitPrep  int
	RateLimitCheck int
}

// HasScope reports whether the caller's key carries scope.
func (p *Principal) HasScope(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Authorize decides which rate-limit bucket a request spends: a write
// needs the prep scope and spends prep; a read accepts prep or check and
// spends check when the key holds it. EFORBIDDEN names the missing scope.
func (p *Principal) Authorize(write bool) (scope string, limit int, err error) {
	switch {
	case write && !p.HasScope(ScopePrep):
		return "", 0, Errorf(EFORBIDDEN, "Requires scope: prep")
	case !write && p.HasScope(ScopeCheck):
		return ScopeCheck, p.RateLimitCheck, nil
	case !write && !p.HasScope(ScopePrep):
		return "", 0, Errorf(EFORBIDDEN, "Requires scope: prep or check")
	}
	return ScopePrep, p.RateLimitPrep, nil
}

// KeyRecord is what authentication needs to know about a presented key.
type KeyRecord struct {
	Principal
	KeyActive    bool
	TenantActive bool
	ExpiresAt    *time.Time
}

// KeyStore finds keys by the SHA-256 hex of the presented secret.
type KeyStore interface {
	// LookupKey returns ENOTFOUND when no key has that hash.
	LookupKey(ctx context.Context, keyHash string) (*KeyRecord, error)
	// TouchKey records use of a key; callers rate-limit it themselves.
	TouchKey(ctx context.Context, keyID uuid.UUID) error
	// KeyHashes lists the hash of every issued key, so a presented key no
	// key has is refused from memory instead of with one lookup each.
	KeyHashes(ctx context.Context) ([]string, error)
}

// RateDecision is the outcome of one rate limiter call.
type RateDecision struct {
	Allowed   bool
	Limit     int
	Remaining int
	// Reset is the time until the window frees a slot; for a denied
	// request it is also the Retry-After.
	Reset time.Duration
}

// RateLimiter counts requests per (tenant, scope) over a rolling minute,
// shared by every API process.
type RateLimiter interface {
	Hit(ctx context.Context, tenantID uuid.UUID, scope string, limit int) (RateDecision, error)
}

package admintest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Fake is an in-memory course.AdminService for tests of code that only
// shows what the service returns, such as the admin CLI's tables and JSON.
// It keeps the contract: Run checks it with the same cases as the
// PostgreSQL store, and the domain rules (names, key input, key format,
// status, which key a revocation picks) are the course functions both
// call. Tenants list in Go string order, which equals the database's for
// the lowercase ASCII names tests use.
type Fake struct {
	mu       sync.Mutex
	defaults course.KeyDefaults
	tenants  []course.Tenant
	keys     []fakeKey // in creation order
}

// fakeKey is a stored key: the public part and the SHA-256 of its secret.
type fakeKey struct {
	key  course.APIKey
	hash string
}

var _ course.AdminService = (*Fake)(nil)

// NewFake returns an empty fake whose new keys get defaults for the rate
// limits their input leaves at zero.
func NewFake(defaults course.KeyDefaults) *Fake {
	return &Fake{defaults: defaults}
}

// Expire moves the expiry of key id an hour into the past, which no
// operation of the interface can do (the Subject hook of Run).
func (f *Fake) Expire(id uuid.UUID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.keys {
		if f.keys[i].key.ID == id {
			at := time.Now().Add(-time.Hour).UTC()
			f.keys[i].key.ExpiresAt = &at
			return nil
		}
	}
	return fmt.Errorf("fake: no key %s", id)
}

// CreateTenant implements course.AdminService.
func (f *Fake) CreateTenant(_ context.Context, name string) (*course.Tenant, error) {
	n, err := course.NormalizeTenantName(name)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tenant(n) != nil {
		return nil, course.TenantExists(n)
	}
	now := time.Now().UTC()
	t := course.Tenant{ID: uuid.Must(uuid.NewV7()), Name: n, IsActive: true, CreatedAt: now, UpdatedAt: now}
	f.tenants = append(f.tenants, t)
	return &t, nil
}

// tenant returns the stored tenant named n, or nil. f.mu is held.
func (f *Fake) tenant(n string) *course.Tenant {
	for i := range f.tenants {
		if f.tenants[i].Name == n {
			return &f.tenants[i]
		}
	}
	return nil
}

// ListTenants implements course.AdminService.
func (f *Fake) ListTenants(context.Context) ([]course.Tenant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	out := make([]course.Tenant, 0, len(f.tenants))
	for _, t := range f.tenants {
		t.ActiveKeys = 0
		for _, k := range f.keys {
			if k.key.TenantID == t.ID && k.key.StatusAt(now) == course.KeyActive {
				t.ActiveKeys++
			}
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b course.Tenant) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// SetTenantActive implements course.AdminService.
func (f *Fake) SetTenantActive(_ context.Context, name string, active bool) (*course.Tenant, error) {
	var out course.Tenant
	err := f.withTenant(name, func(t *course.Tenant) error {
		t.IsActive, t.UpdatedAt = active, time.Now().UTC()
		out = *t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// withTenant runs fn on the stored tenant of name under the lock, or
// returns the domain's answer to a bad or unknown name.
func (f *Fake) withTenant(name string, fn func(t *course.Tenant) error) error {
	n, err := course.NormalizeTenantName(name)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tenant(n)
	if t == nil {
		return course.TenantNotFound(n)
	}
	return fn(t)
}

// CreateKey implements course.AdminService.
func (f *Fake) CreateKey(_ context.Context, in course.NewAPIKey) (*course.APIKey, string, error) {
	in, err := in.Normalize(f.defaults, time.Now())
	if err != nil {
		return nil, "", err
	}
	ks, err := course.NewKeySecret(in.Env)
	if err != nil {
		return nil, "", err
	}
	var k course.APIKey
	err = f.withTenant(in.TenantName, func(t *course.Tenant) error {
		k = course.APIKey{
			ID: uuid.Must(uuid.NewV7()), TenantID: t.ID, TenantName: t.Name, Prefix: ks.Prefix, Label: in.Label,
			Scopes: slices.Clone(in.Scopes), RateLimitPrep: in.RateLimitPrep, RateLimitCheck: in.RateLimitCheck,
			IsActive: true, ExpiresAt: in.ExpiresAt, CreatedAt: time.Now().UTC(),
		}
		f.keys = append(f.keys, fakeKey{key: k, hash: ks.Hash})
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return clone(k), ks.Secret, nil
}

// ListKeys implements course.AdminService.
func (f *Fake) ListKeys(_ context.Context, tenantName string) ([]course.APIKey, error) {
	out := []course.APIKey{}
	err := f.withTenant(tenantName, func(t *course.Tenant) error {
		for _, k := range f.keys {
			if k.key.TenantID == t.ID {
				out = append(out, *clone(k.key))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeKey implements course.AdminService: the selector matches as the
// store's query does (id, hash of a complete key, or key prefix start).
func (f *Fake) RevokeKey(_ context.Context, prefixOrID string) (*course.APIKey, error) {
	sel, err := course.ParseKeySelector(prefixOrID)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var matches []course.APIKey
	for _, k := range f.keys {
		if (sel.ID != nil && k.key.ID == *sel.ID) || (sel.Hash != "" && k.hash == sel.Hash) ||
			(sel.Prefix != "" && strings.HasPrefix(k.key.Prefix, sel.Prefix)) {
			matches = append(matches, k.key)
		}
	}
	target, err := course.PickRevocable(matches, sel)
	if err != nil {
		return nil, err
	}
	for i := range f.keys {
		if k := &f.keys[i].key; k.ID == target.ID {
			at := time.Now().UTC()
			k.IsActive, k.RevokedAt = false, &at
			return clone(*k), nil
		}
	}
	return nil, fmt.Errorf("fake: key %s vanished", target.ID)
}

// clone copies k so callers never alias the fake's state.
func clone(k course.APIKey) *course.APIKey {
	k.Scopes = slices.Clone(k.Scopes)
	return &k
}

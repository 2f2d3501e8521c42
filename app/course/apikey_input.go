package course

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of admin input, matching the columns that store it.
const (
	MaxTenantName   = 200 // tenants.name is varchar(200)
	MaxKeyLabel     = 100 // api_keys.label is varchar(100)
	DefaultKeyLabel = "default"
)

// Scopes lists the scopes in their canonical order.
var Scopes = []string{ScopePrep, ScopeCheck}

// KeyDefaults are the rate limits a new key gets when its input leaves them
// at zero (RATE_LIMIT_PREP_DEFAULT, RATE_LIMIT_CHECK_DEFAULT; the values
// themselves live in the configuration).
type KeyDefaults struct {
	RatePrep  int
	RateCheck int
}

// NormalizeTenantName trims name and checks it fits the column and holds
// no control characters (they would break the CLI's tables).
func NormalizeTenantName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", Errorf(EINVALID, "Tenant name must not be empty")
	}
	if utf8.RuneCountInString(n) > MaxTenantName {
		return "", Errorf(EINVALID, "Tenant name must be at most %d characters", MaxTenantName)
	}
	if hasControl(n) {
		return "", Errorf(EINVALID, "Tenant name must not contain control characters")
	}
	return n, nil
}

// Normalize validates everything in a key request that needs no database
// and returns it in canonical form: scopes deduplicated in canonical order,
// the label trimmed (empty means "default"), zero rate limits replaced by
// the defaults, the expiry in UTC and in the future, the environment live
// or test (empty means live) and the tenant name trimmed.
func (in NewAPIKey) Normalize(d KeyDefaults, now time.Time) (NewAPIKey, error) {
	out := in
	var err error
	if out.Scopes, err = normScopes(in.Scopes); err != nil {
		return in, err
	}
	if out.Label, err = normLabel(in.Label); err != nil {
		return in, err
	}
	if out.RateLimitPrep, err = normRate(in.RateLimitPrep, d.RatePrep, ScopePrep); err != nil {
		return in, err
	}
	if out.RateLimitCheck, err = normRate(in.RateLimitCheck, d.RateCheck, ScopeCheck); err != nil {
		return in, err
	}
	if out.ExpiresAt, err = checkExpiry(in.ExpiresAt, now); err != nil {
		return in, err
	}
	if out.TenantName, err = NormalizeTenantName(in.TenantName); err != nil {
		return in, err
	}
	if out.Env, err = normEnv(in.Env); err != nil {
		return in, err
	}
	return out, nil
}

// normLabel trims a key label; empty means "default".
func normLabel(label string) (string, error) {
	l := strings.TrimSpace(label)
	if l == "" {
		return DefaultKeyLabel, nil
	}
	if utf8.RuneCountInString(l) > MaxKeyLabel {
		return "", Errorf(EINVALID, "Label must be at most %d characters", MaxKeyLabel)
	}
	if hasControl(l) {
		return "", Errorf(EINVALID, "Label must not contain control characters")
	}
	return l, nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// normScopes validates scopes against the allowed set and returns them
// deduplicated in canonical order (prep, check).
func normScopes(in []string) ([]string, error) {
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if s != ScopePrep && s != ScopeCheck {
			return nil, Errorf(EINVALID, "Unknown scope '%s'; allowed: %s", s, strings.Join(Scopes, ", "))
		}
		seen[s] = true
	}
	out := make([]string, 0, len(Scopes))
	for _, s := range Scopes {
		if seen[s] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "At least one scope is required; allowed: %s", strings.Join(Scopes, ", "))
	}
	return out, nil
}

// normEnv validates the key environment; empty means "live".
func normEnv(env string) (string, error) {
	switch e := strings.ToLower(strings.TrimSpace(env)); e {
	case "":
		return KeyEnvLive, nil
	case KeyEnvLive, KeyEnvTest:
		return e, nil
	default:
		return "", Errorf(EINVALID, "Unknown key environment '%s'; allowed: %s, %s", env, KeyEnvLive, KeyEnvTest)
	}
}

// normRate applies the default for 0 and rejects negative limits.
func normRate(v, def int, scope string) (int, error) {
	if v == 0 {
		v = def
	}
	if v <= 0 {
		return 0, Errorf(EINVALID, "Rate limit for %s must be greater than 0, got %d", scope, v)
	}
	return v, nil
}

// checkExpiry rejects an expiry that is not in the future.
func checkExpiry(at *time.Time, now time.Time) (*time.Time, error) {
	if at == nil {
		return nil, nil
	}
	if !at.After(now) {
		return nil, Errorf(EINVALID, "Expiry %s is not in the future", at.UTC().Format(time.RFC3339))
	}
	u := at.UTC()
	return &u, nil
}

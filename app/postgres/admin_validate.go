package postgres

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/course-supporter/course-supporter/app/course"
)

const (
	maxTenantName = 200 // tenants.name is varchar(200)
	maxKeyLabel   = 100 // api_keys.label is varchar(100)
	defaultLabel  = "default"
)

// allowedScopes in their canonical order.
var allowedScopes = []string{course.ScopePrep, course.ScopeCheck}

// normTenantName trims name and checks it fits the column and holds no
// control characters (they would break the CLI's tables).
func normTenantName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", course.Errorf(course.EINVALID, "Tenant name must not be empty")
	}
	if utf8.RuneCountInString(n) > maxTenantName {
		return "", course.Errorf(course.EINVALID, "Tenant name must be at most %d characters", maxTenantName)
	}
	if hasControl(n) {
		return "", course.Errorf(course.EINVALID, "Tenant name must not contain control characters")
	}
	return n, nil
}

// normLabel trims a key label; empty means "default".
func normLabel(label string) (string, error) {
	l := strings.TrimSpace(label)
	if l == "" {
		return defaultLabel, nil
	}
	if utf8.RuneCountInString(l) > maxKeyLabel {
		return "", course.Errorf(course.EINVALID, "Label must be at most %d characters", maxKeyLabel)
	}
	if hasControl(l) {
		return "", course.Errorf(course.EINVALID, "Label must not contain control characters")
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
		if s != course.ScopePrep && s != course.ScopeCheck {
			return nil, course.Errorf(course.EINVALID, "Unknown scope '%s'; allowed: %s", s, strings.Join(allowedScopes, ", "))
		}
		seen[s] = true
	}
	out := make([]string, 0, len(allowedScopes))
	for _, s := range allowedScopes {
		if seen[s] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, course.Errorf(course.EINVALID, "At least one scope is required; allowed: %s", strings.Join(allowedScopes, ", "))
	}
	return out, nil
}

// normEnv validates the key environment; empty means "live".
func normEnv(env string) (string, error) {
	switch e := strings.ToLower(strings.TrimSpace(env)); e {
	case "":
		return "live", nil
	case "live", "test":
		return e, nil
	default:
		return "", course.Errorf(course.EINVALID, "Unknown key environment '%s'; allowed: live, test", env)
	}
}

// normRate applies the default for 0 and rejects negative limits.
func normRate(v, def int, scope string) (int, error) {
	if v == 0 {
		v = def
	}
	if v <= 0 {
		return 0, course.Errorf(course.EINVALID, "Rate limit for %s must be greater than 0, got %d", scope, v)
	}
	return v, nil
}

// checkExpiry rejects an expiry that is not in the future.
func checkExpiry(at *time.Time, now time.Time) (*time.Time, error) {
	if at == nil {
		return nil, nil
	}
	if !at.After(now) {
		return nil, course.Errorf(course.EINVALID, "Expiry %s is not in the future", at.UTC().Format(time.RFC3339))
	}
	u := at.UTC()
	return &u, nil
}

package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"

	"github.com/course-supporter/course-supporter/app/course"
)

// Operation classes, stored in huma.Operation.Metadata["class"]. A write
// needs the prep scope and spends the prep budget; a read accepts prep or
// check and spends check when the key holds it.
const (
	classWrite = "write"
	classRead  = "read"
)

var keyPattern = regexp.MustCompile(`^cs_(live|test)_[0-9a-f]{32}$`)

type principalKey struct{}

// principal returns the authenticated caller set by the auth middleware.
func principal(ctx context.Context) *course.Principal {
	p, _ := ctx.Value(principalKey{}).(*course.Principal)
	return p
}

// authenticate runs, in this order, authentication (401), scope (403) and
// rate limiting (429) for every operation that declares a class; huma
// validates the request only after it.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	class, _ := ctx.Operation().Metadata["class"].(string)
	if class == "" {
		next(ctx)
		return
	}
	raw := ctx.Header("X-API-Key")
	if raw == "" {
		s.reject(ctx, http.StatusUnauthorized, "Not authenticated")
		return
	}
	if !keyPattern.MatchString(raw) {
		s.reject(ctx, http.StatusUnauthorized, "Invalid API key")
		return
	}
	rec, err := s.keys.lookup(ctx.Context(), raw)
	if err != nil {
		if course.ErrorCode(err) == course.ENOTFOUND {
			s.reject(ctx, http.StatusUnauthorized, "Invalid API key")
			return
		}
		logger(humafiber.Unwrap(ctx), s.deps.Log).Error("auth_lookup_failed", "error", err)
		s.reject(ctx, http.StatusInternalServerError, "Internal server error")
		return
	}
	if !rec.KeyActive || !rec.TenantActive {
		s.reject(ctx, http.StatusUnauthorized, "Invalid API key")
		return
	}
	if rec.ExpiresAt != nil && !rec.ExpiresAt.After(time.Now()) {
		s.reject(ctx, http.StatusUnauthorized, "API key expired")
		return
	}
	p := rec.Principal
	fc := humafiber.Unwrap(ctx)
	fc.Locals(localTenant, p.TenantID.String())
	fc.Locals(localKeyPrefix, p.KeyPrefix)
	scope, limit := course.ScopePrep, p.RateLimitPrep
	switch {
	case class == classWrite && !p.HasScope(course.ScopePrep):
		s.reject(ctx, http.StatusForbidden, "Requires scope: prep")
		return
	case class == classRead && p.HasScope(course.ScopeCheck):
		scope, limit = course.ScopeCheck, p.RateLimitCheck
	case class == classRead && !p.HasScope(course.ScopePrep):
		s.reject(ctx, http.StatusForbidden, "Requires scope: prep or check")
		return
	}
	if !s.rateLimit(ctx, &p, scope, limit) {
		return
	}
	ctx = huma.WithValue(ctx, principalKey{}, &p)
	if id, ok := fc.Locals(localRequestID).(string); ok {
		ctx = huma.WithContext(ctx, course.WithRequestID(ctx.Context(), id))
	}
	next(ctx)
}

// rateLimit spends one request of the bucket and sets the RateLimit-*
// headers; it fails open when the limiter itself fails.
func (s *Server) rateLimit(ctx huma.Context, p *course.Principal, scope string, limit int) bool {
	if !s.opts.RateLimitEnabled || s.deps.Limiter == nil {
		return true
	}
	d, err := s.deps.Limiter.Hit(ctx.Context(), p.TenantID, scope, limit)
	if err != nil {
		logger(humafiber.Unwrap(ctx), s.deps.Log).Warn("rate_limiter_error", "logger", "ratelimit", "error", err)
		return true
	}
	reset := int(math.Ceil(d.Reset.Seconds()))
	ctx.SetHeader("RateLimit-Limit", strconv.Itoa(d.Limit))
	ctx.SetHeader("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	ctx.SetHeader("RateLimit-Reset", strconv.Itoa(reset))
	if d.Allowed {
		return true
	}
	s.deps.Metrics.rateLimit(scope)
	ctx.SetHeader("Retry-After", strconv.Itoa(max(reset, 1)))
	s.reject(ctx, http.StatusTooManyRequests, "Rate limit exceeded")
	return false
}

func (s *Server) reject(ctx huma.Context, status int, msg string) {
	_ = huma.WriteErr(s.api, ctx, status, msg)
}

// hashKey is the SHA-256 hex stored in api_keys.key_hash.
func hashKey(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

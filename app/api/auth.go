package api

import (
	"context"
	"fmt"
	"math"
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
		s.reject(ctx, course.Errorf(course.EUNAUTHORIZED, "Not authenticated"))
		return
	}
	if !course.ValidKey(raw) {
		s.reject(ctx, course.ErrInvalidKey())
		return
	}
	rec, err := s.keys.lookup(ctx.Context(), raw)
	switch course.ErrorCode(err) {
	case "":
	case course.ENOTFOUND:
		err = course.ErrInvalidKey()
	default:
		err = fmt.Errorf("auth lookup: %w", err)
	}
	var p *course.Principal
	if err == nil {
		p, err = rec.Authenticate(time.Now())
	}
	if err != nil {
		s.reject(ctx, err)
		return
	}
	fc := humafiber.Unwrap(ctx)
	fc.Locals(localTenant, p.TenantID.String())
	fc.Locals(localKeyPrefix, p.KeyPrefix)
	scope, limit, err := p.Authorize(class == classWrite)
	if err != nil {
		s.reject(ctx, err)
		return
	}
	if !s.rateLimit(ctx, p, scope, limit) {
		return
	}
	ctx = huma.WithValue(ctx, principalKey{}, p)
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
	s.reject(ctx, course.Errorf(course.ERATELIMITED, "Rate limit exceeded"))
	return false
}

// reject answers a request the middleware refuses, through the one error
// map like every handler error.
func (s *Server) reject(ctx huma.Context, err error) {
	body := s.errorBody(ctx.Context(), err)
	_ = huma.WriteErr(s.api, ctx, body.status, "", body)
}

package api

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Defaults of the cross-origin policy (docs/design/api.md, "CORS"), used when a list in
// CORSOptions is empty. The configuration always passes its own lists.
var (
	defaultCORSMethods = []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPatch, fiber.MethodDelete}
	defaultCORSHeaders = []string{fiber.HeaderContentType, "X-API-Key", fiber.HeaderXRequestID}
	defaultCORSExposed = []string{
		fiber.HeaderRetryAfter, fiber.HeaderXRequestID, "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	}
)

// corsPolicy is CORSOptions compiled once, at start.
type corsPolicy struct {
	anyOrigin   bool                // "*" is among the allowed origins
	origins     map[string]struct{} // exact, normalised origins
	credentials bool
	methods     string
	headers     string
	exposed     string
	maxAge      string // empty: no Access-Control-Max-Age
}

func newCORSPolicy(o CORSOptions) *corsPolicy {
	p := &corsPolicy{origins: map[string]struct{}{}, credentials: o.AllowCredentials}
	for _, origin := range o.AllowedOrigins {
		origin = normalizeOrigin(origin)
		switch origin {
		case "":
		case "*":
			p.anyOrigin = true
		default:
			p.origins[origin] = struct{}{}
		}
	}
	p.methods = joinOr(o.AllowedMethods, defaultCORSMethods, true)
	p.headers = joinOr(o.AllowedHeaders, defaultCORSHeaders, false)
	p.exposed = joinOr(o.ExposedHeaders, defaultCORSExposed, false)
	if o.MaxAge > 0 {
		p.maxAge = strconv.Itoa(o.MaxAge)
	}
	return p
}

// normalizeOrigin makes a configured origin comparable with the Origin
// header a browser sends: serialised origins carry no trailing slash and
// a lower-case scheme and host.
func normalizeOrigin(origin string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(origin), "/"))
}

func joinOr(list, def []string, upper bool) string {
	if len(list) == 0 {
		list = def
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			if upper {
				v = strings.ToUpper(v)
			}
			out = append(out, v)
		}
	}
	return strings.Join(out, ", ")
}

// allowOrigin returns the Access-Control-Allow-Origin value for the
// request's Origin header, or "" when that origin is not allowed. Matching
// is exact: no prefixes, suffixes or subdomain patterns.
func (p *corsPolicy) allowOrigin(origin string) string {
	if _, ok := p.origins[origin]; ok {
		return origin
	}
	if p.anyOrigin {
		// The configuration refuses credentials together with "*"; the
		// literal "*" keeps it that way even if a caller bypasses it.
		return "*"
	}
	return ""
}

// cors applies the cross-origin policy of s.opts.CORS (docs/design/api.md, "CORS"). It runs
// before authentication: a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) is always answered here with 204, and only
// an allowed origin gets Access-Control-* headers, so a refused origin's
// browser blocks the call. With no allowed origins configured the
// middleware does nothing at all.
func (s *Server) cors() fiber.Handler {
	p := newCORSPolicy(s.opts.CORS)
	if !p.anyOrigin && len(p.origins) == 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return func(c *fiber.Ctx) error {
		// The answer depends on Origin whether or not one was sent, so
		// shared caches must key on it.
		c.Vary(fiber.HeaderOrigin)
		origin := c.Get(fiber.HeaderOrigin)
		if origin == "" {
			return c.Next()
		}
		allowed := p.allowOrigin(origin)
		preflight := c.Method() == fiber.MethodOptions && c.Get(fiber.HeaderAccessControlRequestMethod) != ""
		if !preflight {
			if allowed != "" {
				p.setCommon(c, allowed)
				if p.exposed != "" {
					c.Set(fiber.HeaderAccessControlExposeHeaders, p.exposed)
				}
			}
			return c.Next()
		}
		c.Vary(fiber.HeaderAccessControlRequestMethod, fiber.HeaderAccessControlRequestHeaders)
		if allowed != "" {
			p.setCommon(c, allowed)
			c.Set(fiber.HeaderAccessControlAllowMethods, p.methods)
			if p.headers != "" {
				c.Set(fiber.HeaderAccessControlAllowHeaders, p.headers)
			}
			if p.maxAge != "" {
				c.Set(fiber.HeaderAccessControlMaxAge, p.maxAge)
			}
		}
		c.Status(fiber.StatusNoContent)
		return nil
	}
}

func (p *corsPolicy) setCommon(c *fiber.Ctx, allowed string) {
	c.Set(fiber.HeaderAccessControlAllowOrigin, allowed)
	if p.credentials && allowed != "*" {
		c.Set(fiber.HeaderAccessControlAllowCredentials, "true")
	}
}

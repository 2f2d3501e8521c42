package api

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

const (
	localRequestID = "request_id"
	localLogger    = "logger"
	localTenant    = "tenant_id"
	localKeyPrefix = "key_prefix"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// requestID keeps a well-formed incoming X-Request-ID or makes a UUIDv7,
// echoes it, and binds it to the request's logger.
func (s *Server) requestID(c *fiber.Ctx) error {
	// The header is a view of a reused buffer, and the id outlives the
	// request (job arguments, the key-touch goroutine's context): copy it.
	id := strings.Clone(c.Get(fiber.HeaderXRequestID))
	if !requestIDPattern.MatchString(id) {
		id = uuid.Must(uuid.NewV7()).String()
	}
	c.Locals(localRequestID, id)
	c.Locals(localLogger, s.deps.Log.With("logger", "http", "request_id", id))
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// drainLimit is how much of an unread request body is discarded after the
// response before the connection is closed instead.
const drainLimit = 256 << 10

// drainBody runs first. With streamed request bodies, bytes a handler did
// not read (a 401 before the body, a 413 midway) would be parsed by fasthttp
// as the next request on the connection: request smuggling. After every
// request the rest of the body is discarded, or the connection is closed
// when too much is left.
func drainBody(c *fiber.Ctx) error {
	err := c.Next()
	if c.Request().IsBodyStream() {
		if stream := c.Context().RequestBodyStream(); stream != nil {
			n, _ := io.CopyN(io.Discard, stream, drainLimit+1)
			if n > drainLimit {
				c.Context().SetConnectionClose()
			}
		}
	}
	return err
}

// logger returns the request-scoped logger, or fallback outside a request.
func logger(c *fiber.Ctx, fallback *slog.Logger) *slog.Logger {
	if l, ok := c.Locals(localLogger).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// quietPaths are probed constantly or are static; logging them would drown
// the request log.
func quietPath(p string) bool {
	switch {
	case p == "/health", p == "/livez", p == "/metrics",
		strings.HasPrefix(p, "/docs"), strings.HasPrefix(p, "/openapi."), strings.HasPrefix(p, "/schemas/"):
		return true
	}
	return false
}

// requestLog writes one http_request event per request, after the response
// status is known (including 500s produced by recoverPanic below it).
func (s *Server) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Render the error now so the logged status is the one sent.
		if herr := s.app.Config().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	s.deps.Metrics.observe(c, start)
	path := c.Path()
	if quietPath(path) {
		return nil
	}
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	route := ""
	if r := c.Route(); r != nil {
		route = r.Path
	}
	logger(c, s.deps.Log).Log(c.UserContext(), level, "http_request",
		"method", c.Method(),
		"path", path,
		"route", route,
		"status", status,
		"latency_ms", time.Since(start).Milliseconds(),
		"bytes_in", max(c.Request().Header.ContentLength(), 0),
		"bytes_out", len(c.Response().Body()),
		"tenant_id", c.Locals(localTenant),
		"key_prefix", c.Locals(localKeyPrefix),
		"remote_ip", c.IP(),
		"user_agent", c.Get(fiber.HeaderUserAgent),
	)
	return nil
}

// recoverPanic turns a panic into a logged unhandled_exception and a bare
// 500, so no stack trace or internal text reaches the client.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			logger(c, s.deps.Log).Error("unhandled_exception",
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = writeJSON(c, fiber.StatusInternalServerError, detail(500, "Internal server error"))
		}
	}()
	return c.Next()
}

// securityHeaders sets the headers every response carries; nginx adds HSTS.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if strings.HasPrefix(c.Path(), "/api/") {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return c.Next()
}

// Package api serves the public HTTP API: fiber v2 for the transport, huma
// v2 for operations, validation and the OpenAPI 3.1 document. It talks to
// the domain only through course interfaces, and it is the one place where
// domain error codes become HTTP statuses.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

// Options carries what the server needs from the configuration; the
// defaults live there, not here.
type Options struct {
	Version         string
	JSONBodyMax     int64
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	TrustedProxies  []string
	HealthTimeout   time.Duration
	ShutdownTimeout time.Duration
	CORS            CORSOptions
	// RateLimitEnabled turns the shared rate limiter on (off only in tests).
	RateLimitEnabled bool
	// UploadConcurrency bounds streaming uploads per process, and
	// UploadTenantSlots one tenant's share of them (0: no share).
	UploadConcurrency int
	UploadTenantSlots int
	// UploadIdle is the longest an upload body may send nothing (0: only
	// ReadTimeout bounds it).
	UploadIdle time.Duration
	// MaxRequestBytes refuses (413) a request whose Content-Length is
	// larger, before any of its body is read (0: no such check).
	MaxRequestBytes int64
	// KeyCacheTTL bounds how long a key lookup is reused; it is how long a
	// revocation or a tenant deactivation may take to bite.
	KeyCacheTTL time.Duration
}

// CORSOptions is the cross-origin policy.
type CORSOptions struct {
	AllowedOrigins   []string
	AllowCredentials bool
	AllowedMethods   []string
	AllowedHeaders   []string
	ExposedHeaders   []string
	MaxAge           int
}

// NamedCheck is one dependency probed by /health.
type NamedCheck struct {
	Name    string
	Checker course.Checker
}

// Deps are the services the handlers use.
type Deps struct {
	Log       *slog.Logger
	Checks    []NamedCheck
	Keys      course.KeyStore
	Limiter   course.RateLimiter
	Nodes     course.NodeService
	Materials course.MaterialService
	Jobs      course.JobService
	Intake    course.MaterialIntake
	Costs     course.CostReporter
	Mappings  course.MappingService
	Search    course.SearchService
	// Generation plans generate/refine; Structures reads snapshots.
	Generation course.GenerationService
	Structures course.StructureService
	// Metrics records Prometheus series; nil disables them.
	Metrics *Metrics
}

// Server is the public HTTP API.
type Server struct {
	app     *fiber.App
	api     huma.API
	deps    Deps
	opts    Options
	keys    *keyCache
	uploads chan struct{}
	shares  *tenantShares
}

// New builds the server and registers every route.
func New(deps Deps, opts Options) *Server {
	s := &Server{deps: deps, opts: opts, keys: newKeyCache(deps.Keys, opts.KeyCacheTTL),
		uploads: make(chan struct{}, opts.UploadConcurrency), shares: newTenantShares(opts.UploadTenantSlots)}
	s.app = fiber.New(fiber.Config{
		AppName:               "course-supporter",
		DisableStartupMessage: true,
		// Bodies above this are streamed rather than buffered: huma bounds
		// JSON bodies by MaxBodyBytes, and the upload route streams its body
		// to storage with constant memory.
		StreamRequestBody: true,
		// fasthttp would otherwise parse (and buffer or spool) whole
		// multipart bodies before the handler runs.
		DisablePreParseMultipartForm: true,
		BodyLimit:                    64 << 10,
		// Headers and a typical JSON body (a 50-node tree is 27 KB) leave
		// in one write: with fasthttp's 4 KiB default every larger
		// response cost a second write syscall (docs/performance.md).
		WriteBufferSize:         32 << 10,
		ReadTimeout:             opts.ReadTimeout,
		WriteTimeout:            opts.WriteTimeout,
		IdleTimeout:             opts.IdleTimeout,
		ErrorHandler:            s.fiberError,
		ProxyHeader:             "X-Real-IP",
		EnableTrustedProxyCheck: true,
		TrustedProxies:          opts.TrustedProxies,
	})
	s.app.Server().HeaderReceived = declaredLengthGuard(opts.MaxRequestBytes)
	s.app.Use(drainBody, s.requestID, s.requestLog, s.recoverPanic, refuseDeclared, securityHeaders, s.cors(), escapeStorageKey)

	cfg := huma.DefaultConfig("Course Supporter API", opts.Version)
	cfg.CreateHooks = nil // no $schema links injected into response bodies
	cfg.Formats = jsonFormats()
	cfg.OnAddOperation = append(cfg.OnAddOperation, func(_ *huma.OpenAPI, o *huma.Operation) {
		if o.MaxBodyBytes > 0 { // operations with a JSON body
			o.MaxBodyBytes = opts.JSONBodyMax + 1 // huma refuses count >= max
		}
	})
	cfg.DocsPath = ""
	cfg.Info.Description = "Turns course materials into a structured course outline. " +
		"Authenticate with the X-API-Key header."
	s.api = humafiber.New(s.app, cfg)
	s.api.UseMiddleware(s.authenticate)
	s.registerHealth()
	s.registerNodes()
	s.registerMaterials()
	s.registerMappings()
	s.registerJobs()
	s.registerReports()
	s.registerSearch()
	s.registerGeneration()
	s.registerStructure()
	s.registerDocs()
	return s
}

// App exposes the fiber app, for tests that call app.Test.
func (s *Server) App() *fiber.App { return s.app }

// OpenAPI returns the generated document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends; requests still running then are cut off.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shutdown http: %w", err)
	}
	return nil
}

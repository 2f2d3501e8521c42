// Package config parses the environment once, at start, into one typed
// struct that is passed down explicitly. Nothing else in the program reads
// environment variables.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole runtime configuration.
type Config struct {
	Environment string
	LogLevel    string
	LogFormat   string

	HTTP     HTTP
	Database Database
	S3       S3
	Upload   Upload
	Auth     Auth
	CORS     CORS
	Worker   Worker
	Ingest   Ingest
	Limits   Limits
	LLM      LLM
	Embed    Embeddings
}

// HTTP holds listener settings.
type HTTP struct {
	Addr            string
	MetricsAddr     string
	TrustedProxies  []string
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	JSONBodyMax     int64
	ShutdownTimeout time.Duration
	// HealthTimeout bounds each /health dependency check (fixed, as the
	// API document states).
	HealthTimeout time.Duration
}

// Database holds the pool settings; URL is the effective DSN whether it came
// from DATABASE_URL or was assembled from POSTGRES_*.
type Database struct {
	URL               string
	MaxConns          int32
	MinConns          int32
	HealthCheckPeriod time.Duration
	MaxConnLifetime   time.Duration
}

// S3 holds the object store connection.
type S3 struct {
	Endpoint       string
	PublicEndpoint string
	Region         string
	AccessKey      string
	SecretKey      string
	Bucket         string
	ForcePathStyle bool
}

// Upload holds the limits of material uploads.
type Upload struct {
	MaxBytes      int64
	PartSizeBytes int64
	MaxConcurrent int
	// TenantConcurrent is one tenant's share of MaxConcurrent.
	TenantConcurrent int
	// IdleTimeout is the longest an upload body may send nothing.
	IdleTimeout time.Duration
	PresignTTL  time.Duration
}

// Auth holds API key and rate limit defaults.
type Auth struct {
	RateLimitEnabled bool
	RatePrepDefault  int
	RateCheckDefault int
	// KeyCacheTTL is how long an API key lookup is reused, so also how long
	// a revocation or a tenant deactivation may take to bite (fixed).
	KeyCacheTTL time.Duration
}

// CORS holds the cross-origin policy.
type CORS struct {
	AllowedOrigins   []string
	AllowCredentials bool
	AllowedMethods   []string
	AllowedHeaders   []string
	ExposedHeaders   []string
	MaxAge           int
}

// Load reads and validates every variable. It returns all problems at once.
func Load(lookup LookupFunc) (*Config, error) {
	l := newLoader(lookup)
	cfg := l.load()
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	return cfg, nil
}

// loadBase reads what every command needs: environment and logging.
func (l *loader) loadBase() *Config {
	c := &Config{}
	c.Environment = l.oneOf("ENVIRONMENT", "development", "development", "staging", "production", "testing")
	c.LogLevel = l.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	defFormat := "json"
	if c.Environment == "development" {
		defFormat = "text"
	}
	c.LogFormat = l.oneOf("LOG_FORMAT", defFormat, "json", "text")
	return c
}

// rateDefaults reads the rate limits a new API key gets.
func (l *loader) rateDefaults() (prep, check int) {
	return int(l.integer("RATE_LIMIT_PREP_DEFAULT", 60, 1, 1_000_000)),
		int(l.integer("RATE_LIMIT_CHECK_DEFAULT", 300, 1, 1_000_000))
}

func (l *loader) load() *Config {
	c := l.loadBase()

	c.HTTP = l.loadHTTP()
	c.Database = l.loadDatabase()
	c.S3 = l.loadS3()
	c.Upload = Upload{
		MaxBytes:      l.integer("UPLOAD_MAX_BYTES", 1<<30, 1, 1<<40),
		PartSizeBytes: l.integer("UPLOAD_PART_SIZE_BYTES", 10<<20, 5<<20, 5<<30),
		MaxConcurrent: int(l.integer("UPLOAD_MAX_CONCURRENT", 4, 1, 1024)),
		PresignTTL:    l.duration("UPLOAD_PRESIGN_TTL", 15*time.Minute),

		TenantConcurrent: int(l.integer("UPLOAD_MAX_CONCURRENT_PER_TENANT", 2, 1, 1024)),
		IdleTimeout:      l.duration("UPLOAD_IDLE_TIMEOUT", 30*time.Second),
	}
	c.Auth = Auth{
		RateLimitEnabled: l.boolean("RATE_LIMIT_ENABLED", true),
		KeyCacheTTL:      10 * time.Second,
	}
	c.Auth.RatePrepDefault, c.Auth.RateCheckDefault = l.rateDefaults()
	c.CORS = l.loadCORS()
	c.Worker = l.loadWorker()
	c.Ingest = l.loadIngest(c.Environment)
	c.Limits = l.loadLimits()
	c.LLM = l.loadLLM(c.Environment)
	c.Embed = l.loadEmbeddings()
	return c
}

func (l *loader) loadHTTP() HTTP {
	h := HTTP{
		Addr:            l.str("HTTP_ADDR", ":8000"),
		MetricsAddr:     l.strOrEmpty("METRICS_ADDR", ":9090"),
		TrustedProxies:  l.list("TRUSTED_PROXIES", nil),
		ReadTimeout:     l.duration("HTTP_READ_TIMEOUT", 905*time.Second),
		WriteTimeout:    l.duration("HTTP_WRITE_TIMEOUT", 905*time.Second),
		IdleTimeout:     l.duration("HTTP_IDLE_TIMEOUT", 120*time.Second),
		JSONBodyMax:     l.integer("JSON_BODY_MAX_BYTES", 1<<20, 1024, 64<<20),
		ShutdownTimeout: l.duration("SHUTDOWN_TIMEOUT", 30*time.Second),
		HealthTimeout:   5 * time.Second,
	}
	// PORT is the conventional shorthand of hosting platforms; HTTP_ADDR wins.
	if _, set := l.raw("HTTP_ADDR"); !set {
		if p := l.integer("PORT", 0, 1, 65535); p != 0 {
			h.Addr = ":" + strconv.FormatInt(p, 10)
		}
	}
	l.listenAddr("HTTP_ADDR", h.Addr, false)
	l.listenAddr("METRICS_ADDR", h.MetricsAddr, true)
	for _, cidr := range h.TrustedProxies {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			l.fail("TRUSTED_PROXIES", "%q is not a CIDR", cidr)
		}
	}
	return h
}

func (l *loader) listenAddr(name, v string, emptyOK bool) {
	if v == "" && emptyOK {
		return
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		l.fail(name, "must be host:port or :port, got %q", v)
	}
}

func (l *loader) loadDatabase() Database {
	d := Database{
		MaxConns:          int32(l.integer("DB_MAX_CONNS", 10, 1, 1000)), //nolint:gosec // bounded above
		MinConns:          int32(l.integer("DB_MIN_CONNS", 1, 0, 1000)),  //nolint:gosec // bounded above
		HealthCheckPeriod: l.duration("DB_HEALTH_CHECK_PERIOD", 30*time.Second),
		MaxConnLifetime:   l.duration("DB_MAX_CONN_LIFETIME", 30*time.Minute),
	}
	if d.MinConns > d.MaxConns {
		l.fail("DB_MIN_CONNS", "must not exceed DB_MAX_CONNS (%d)", d.MaxConns)
	}
	user := l.str("POSTGRES_USER", "course_supporter")
	password, hasPassword := l.raw("POSTGRES_PASSWORD")
	db := l.str("POSTGRES_DB", "course_supporter")
	host := l.str("POSTGRES_HOST", "localhost")
	port := l.integer("POSTGRES_PORT", 5432, 1, 65535)
	sslmode := l.oneOf("POSTGRES_SSLMODE", "disable", "disable", "allow", "prefer", "require", "verify-ca", "verify-full")
	if dsn, ok := l.raw("DATABASE_URL"); ok {
		u, err := url.Parse(dsn)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			l.fail("DATABASE_URL", "must be a postgres:// URL")
		}
		d.URL = dsn
		return d
	}
	if !hasPassword {
		l.fail("POSTGRES_PASSWORD", "is required unless DATABASE_URL is set")
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort(host, strconv.FormatInt(port, 10)),
		Path:     "/" + db,
		RawQuery: "sslmode=" + sslmode,
	}
	d.URL = u.String()
	return d
}

func (l *loader) loadS3() S3 {
	s := S3{
		Endpoint:       l.httpURL("S3_ENDPOINT", "http://localhost:9000"),
		Region:         l.str("S3_REGION", "us-east-1"),
		Bucket:         l.str("S3_BUCKET", "course-materials"),
		ForcePathStyle: l.boolean("S3_FORCE_PATH_STYLE", true),
	}
	s.PublicEndpoint = l.httpURL("S3_PUBLIC_ENDPOINT", s.Endpoint)
	var ok bool
	if s.AccessKey, ok = l.raw("S3_ACCESS_KEY"); !ok {
		l.fail("S3_ACCESS_KEY", "is required")
	}
	if s.SecretKey, ok = l.raw("S3_SECRET_KEY"); !ok {
		l.fail("S3_SECRET_KEY", "is required")
	}
	return s
}

func (l *loader) loadCORS() CORS {
	c := CORS{
		AllowedOrigins:   l.list("CORS_ALLOWED_ORIGINS", nil),
		AllowCredentials: l.boolean("CORS_ALLOW_CREDENTIALS", false),
		AllowedMethods:   l.list("CORS_ALLOWED_METHODS", []string{"GET", "POST", "PATCH", "DELETE"}),
		AllowedHeaders:   l.list("CORS_ALLOWED_HEADERS", []string{"Content-Type", "X-API-Key", "X-Request-ID"}),
		ExposedHeaders: l.list("CORS_EXPOSED_HEADERS", []string{
			"Retry-After", "X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
		}),
		MaxAge: int(l.integer("CORS_MAX_AGE", 600, 0, 86400)),
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" && c.AllowCredentials {
			l.fail("CORS_ALLOW_CREDENTIALS", "cannot be true while CORS_ALLOWED_ORIGINS contains \"*\"")
		}
	}
	return c
}

// RedactedDSN returns the DSN without its password, for logs.
func RedactedDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "<unparsable>"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	for k := range q {
		if lk := strings.ToLower(k); strings.Contains(lk, "password") || strings.Contains(lk, "secret") || lk == "sslkey" {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// LogValue renders the effective configuration with every secret masked,
// so config_loaded can be logged safely.
func (c *Config) LogValue() slog.Value {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return slog.GroupValue(
		slog.String("environment", c.Environment),
		slog.String("log_level", c.LogLevel),
		slog.String("log_format", c.LogFormat),
		slog.String("http_addr", c.HTTP.Addr),
		slog.String("metrics_addr", c.HTTP.MetricsAddr),
		slog.Any("trusted_proxies", c.HTTP.TrustedProxies),
		slog.String("shutdown_timeout", c.HTTP.ShutdownTimeout.String()),
		slog.String("database_url", RedactedDSN(c.Database.URL)),
		slog.Int("db_max_conns", int(c.Database.MaxConns)),
		slog.String("s3_endpoint", c.S3.Endpoint),
		slog.String("s3_region", c.S3.Region),
		slog.String("s3_bucket", c.S3.Bucket),
		slog.String("s3_access_key", mask(c.S3.AccessKey)),
		slog.String("s3_secret_key", mask(c.S3.SecretKey)),
		slog.Int64("upload_max_bytes", c.Upload.MaxBytes),
		slog.Bool("rate_limit_enabled", c.Auth.RateLimitEnabled),
		slog.Any("cors_allowed_origins", c.CORS.AllowedOrigins),
		slog.Bool("worker_in_process", c.Worker.InProcess),
		slog.String("worker_heavy_window", c.Worker.HeavyWindow.String()),
		slog.Bool("fetch_allow_private_networks", c.Ingest.FetchAllowPrivate),
		slog.Any("llm", c.LLM.logValue(mask)),
		slog.String("embeddings_enabled", c.Embed.Enabled),
	)
}

// String is never used for logging but keeps %v from printing secrets.
func (c *Config) String() string { return fmt.Sprintf("config(environment=%s)", c.Environment) }

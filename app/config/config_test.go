package config_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/config"
)

func env(kv map[string]string) config.LookupFunc {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func base() map[string]string {
	return map[string]string{"POSTGRES_PASSWORD": "pw", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s"}
}

// Ensure the defaults of the spec apply when only the required values are given.
func TestDefaults(t *testing.T) {
	cfg, err := config.Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":8000" || cfg.HTTP.ShutdownTimeout != 30*time.Second || cfg.LogFormat != "text" {
		t.Fatalf("unexpected defaults: %+v", cfg.HTTP)
	}
	if cfg.Database.URL != "postgres://course_supporter:pw@localhost:5432/course_supporter?sslmode=disable" {
		t.Fatalf("dsn %q", cfg.Database.URL)
	}
	if cfg.Upload.MaxBytes != 1<<30 || cfg.Auth.RatePrepDefault != 60 || len(cfg.CORS.AllowedMethods) != 4 {
		t.Fatalf("unexpected defaults: %+v %+v", cfg.Upload, cfg.Auth)
	}
}

// Ensure each bad value yields exactly one problem naming its variable.
func TestProblems(t *testing.T) {
	cases := map[string]struct {
		set  map[string]string
		drop string
		want string
	}{
		"missing password":    {drop: "POSTGRES_PASSWORD", want: "POSTGRES_PASSWORD: is required unless DATABASE_URL is set"},
		"missing s3 secret":   {drop: "S3_SECRET_KEY", want: "S3_SECRET_KEY: is required"},
		"bad duration":        {set: map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, want: "SHUTDOWN_TIMEOUT: must be a duration"},
		"bad int":             {set: map[string]string{"DB_MAX_CONNS": "ten"}, want: "DB_MAX_CONNS: must be an integer"},
		"bad enum":            {set: map[string]string{"LOG_LEVEL": "loud"}, want: "LOG_LEVEL: must be one of"},
		"bad bool":            {set: map[string]string{"RATE_LIMIT_ENABLED": "yes"}, want: "RATE_LIMIT_ENABLED: must be true"},
		"bad url":             {set: map[string]string{"S3_ENDPOINT": "localhost:9000"}, want: "S3_ENDPOINT: must be an absolute http(s) URL"},
		"bad dsn":             {set: map[string]string{"DATABASE_URL": "mysql://x"}, want: "DATABASE_URL: must be a postgres:// URL"},
		"part too small":      {set: map[string]string{"UPLOAD_PART_SIZE_BYTES": "1024"}, want: "UPLOAD_PART_SIZE_BYTES: must be between"},
		"cors star with cred": {set: map[string]string{"CORS_ALLOWED_ORIGINS": `["*"]`, "CORS_ALLOW_CREDENTIALS": "true"}, want: "CORS_ALLOW_CREDENTIALS: cannot be true"},
		"bad proxy cidr":      {set: map[string]string{"TRUSTED_PROXIES": "10.0.0.1"}, want: "TRUSTED_PROXIES:"},
		"bad addr":            {set: map[string]string{"HTTP_ADDR": "8000"}, want: "HTTP_ADDR: must be host:port"},
		"ssrf off in prod": {set: map[string]string{"ENVIRONMENT": "production", "FETCH_ALLOW_PRIVATE_NETWORKS": "true"},
			want: "FETCH_ALLOW_PRIVATE_NETWORKS: must be false in production"},
		"empty window": {set: map[string]string{"WORKER_HEAVY_WINDOW_ENABLED": "true", "WORKER_HEAVY_WINDOW_START": "03:00", "WORKER_HEAVY_WINDOW_END": "03:00"},
			want: "WORKER_HEAVY_WINDOW_END: must differ"},
		"bad window time":       {set: map[string]string{"WORKER_HEAVY_WINDOW_START": "25:00"}, want: "WORKER_HEAVY_WINDOW_START: must be HH:MM"},
		"bad window zone":       {set: map[string]string{"WORKER_HEAVY_WINDOW_TZ": "Mars/Olympus"}, want: "WORKER_HEAVY_WINDOW_TZ: unknown time zone"},
		"bad fetch port":        {set: map[string]string{"FETCH_ALLOWED_PORTS": "80,http"}, want: "FETCH_ALLOWED_PORTS:"},
		"overlap too big":       {set: map[string]string{"CHUNK_OVERLAP_TOKENS": "400"}, want: "CHUNK_OVERLAP_TOKENS: must be below"},
		"sweep grace too short": {set: map[string]string{"STORAGE_ORPHAN_GRACE": "10m"}, want: "STORAGE_ORPHAN_GRACE: must be at least 1h"},
		"bad sweep time":        {set: map[string]string{"STORAGE_SWEEP_TIME": "3.30"}, want: "STORAGE_SWEEP_TIME: must be HH:MM"},
		"retention zero":        {set: map[string]string{"RIVER_DISCARDED_JOB_RETENTION": "0"}, want: "RIVER_DISCARDED_JOB_RETENTION: must be at least 1m"},
		"stale before beat": {set: map[string]string{"WORKER_STALE_AFTER": "10s", "WORKER_HEARTBEAT_INTERVAL": "15s"},
			want: "WORKER_STALE_AFTER: must exceed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := base()
			delete(e, tc.drop)
			for k, v := range tc.set {
				e[k] = v
			}
			_, err := config.Load(env(e))
			var ps config.Problems
			if !errors.As(err, &ps) || len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %v", err)
			}
			if !strings.Contains(ps[0].String(), tc.want) {
				t.Fatalf("got %q, want %q", ps[0].String(), tc.want)
			}
		})
	}
}

// Ensure all problems are reported together rather than one per restart.
func TestAllProblemsTogether(t *testing.T) {
	_, err := config.Load(env(map[string]string{"LOG_LEVEL": "x"}))
	var ps config.Problems
	if !errors.As(err, &ps) || len(ps) != 4 {
		t.Fatalf("want 4 problems, got %v", err)
	}
}

func TestListsAndDurations(t *testing.T) {
	e := base()
	e["CORS_ALLOWED_ORIGINS"] = "https://a.example, https://b.example"
	e["CORS_ALLOWED_METHODS"] = `["GET","PATCH"]`
	e["HTTP_IDLE_TIMEOUT"] = "90"
	e["PORT"] = "8123"
	e["DATABASE_URL"] = "postgres://u:p@db:5432/x"
	cfg, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CORS.AllowedOrigins) != 2 || cfg.CORS.AllowedMethods[1] != "PATCH" {
		t.Fatalf("lists: %+v", cfg.CORS)
	}
	if e["METRICS_ADDR"] = ""; true {
		if c2, err := config.Load(env(e)); err != nil || c2.HTTP.MetricsAddr != "" {
			t.Fatalf("METRICS_ADDR= must disable the listener: %+v %v", c2, err)
		}
	}
	if cfg.HTTP.IdleTimeout != 90*time.Second || cfg.HTTP.Addr != ":8123" || cfg.Database.URL != "postgres://u:p@db:5432/x" {
		t.Fatalf("got %+v %q", cfg.HTTP, cfg.Database.URL)
	}
	if got := config.RedactedDSN(cfg.Database.URL); strings.Contains(got, ":p@") {
		t.Fatalf("password not redacted: %s", got)
	}
	if got := config.RedactedDSN("postgres://u@h/db?sslmode=require&password=hunter2&sslpassword=s3"); strings.Contains(got, "hunter2") || strings.Contains(got, "s3&") || !strings.Contains(got, "sslmode=require") {
		t.Fatalf("query secrets not redacted: %s", got)
	}
}

// Ensure .env.example documents every variable the binary reads.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	documented := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			documented[name] = true
		}
	}
	names := config.ReadNames()
	if len(names) < 40 {
		t.Fatalf("suspiciously few variables read: %v", names)
	}
	for _, n := range names {
		if !documented[n] {
			t.Errorf("%s is read by config but missing from .env.example", n)
		}
	}
}

// Ensure the exported defaults are the loader's fallbacks of an empty
// environment: valid (no problem reported) and equal to what Load gives
// when only the required variables are set.
func TestDefaultSectionsMatchLoad(t *testing.T) {
	cfg, err := config.Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	w := config.DefaultWorker()
	if w.IngestMaxJobs != 2 || w.MaxTries != 3 || w.JobTimeout != 6*time.Hour || w.MaintenanceMax != 1 ||
		w.RetryBaseDelay != 30*time.Second || w.RescueGrace != 15*time.Minute || w.MaxWait != 72*time.Hour {
		t.Fatalf("worker defaults %+v", w)
	}
	if m := w.Maintenance; m.SweepAt != 3*time.Hour+30*time.Minute || m.OrphanGrace != 24*time.Hour ||
		m.ConfirmWithin != 23*time.Hour || m.HousekeepingInterval != time.Hour || m.RateLimitIdle != time.Hour || m.HeartbeatMaxAge != 24*time.Hour ||
		m.CompletedRetention != 24*time.Hour || m.CancelledRetention != 7*24*time.Hour || m.DiscardedRetention != 7*24*time.Hour {
		t.Fatalf("maintenance defaults %+v", m)
	}
	if w.HeavyWindow.Location.String() != cfg.Worker.HeavyWindow.Location.String() {
		t.Fatalf("window %v, load %v", w.HeavyWindow, cfg.Worker.HeavyWindow)
	}
	w.HeavyWindow.Location, cfg.Worker.HeavyWindow.Location = nil, nil
	if w != cfg.Worker {
		t.Fatalf("DefaultWorker %+v, Load %+v", w, cfg.Worker)
	}
	in := config.DefaultIngest()
	if in.ChunkTarget != 400 || in.ChunkMax != 800 || in.ChunkOverlap != 40 ||
		fmt.Sprint(in.FetchAllowedPorts) != "[80 443]" {
		t.Fatalf("ingest defaults %+v", in)
	}
	if l := config.DefaultLimits(); l != cfg.Limits || l.MaxChunks != 20000 {
		t.Fatalf("DefaultLimits %+v, Load %+v", l, cfg.Limits)
	}
}

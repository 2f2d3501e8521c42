package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/internal/testlog"
)

type lockedBuffer = testlog.Buffer

// app is the real program running in-process on loopback ports.
type app struct {
	URL     string
	Metrics string
	Logs    *lockedBuffer
	stop    context.CancelFunc
	done    chan error
}

func testEnv(dsn string, s3 *s3test.Server) map[string]string {
	return map[string]string{
		"ENVIRONMENT": "testing", "LOG_FORMAT": "json", "LOG_LEVEL": "debug",
		"HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0",
		"DATABASE_URL": dsn, "DB_HEALTH_CHECK_PERIOD": "1s",
		"S3_ENDPOINT": s3.URL, "S3_BUCKET": s3.Bucket,
		"S3_ACCESS_KEY": s3test.AccessKey, "S3_SECRET_KEY": s3test.SecretKey,
		"SHUTDOWN_TIMEOUT": "5s",
		// One process is enough: the workers run in serve, with a quick
		// heartbeat so /health sees them at once.
		"WORKER_IN_PROCESS": "true", "WORKER_HEARTBEAT_INTERVAL": "1s", "WORKER_STALE_AFTER": "5s",
		"WORKER_SHUTDOWN_TIMEOUT": "2s", "WORKER_TMP_DIR": os.TempDir() + "/cs-test-worker",
	}
}

// mustServe runs `course-supporter serve` until the test ends.
func mustServe(t *testing.T, vars map[string]string) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &app{Logs: &lockedBuffer{}, stop: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		a.done <- run(ctx, env{
			args:   []string{"serve"},
			lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			stdout: a.Logs, stderr: a.Logs,
			onListening: func(api, metrics string) {
				a.URL, a.Metrics = "http://"+api, "http://"+metrics
				close(ready)
			},
		})
	}()
	select {
	case <-ready:
	case err := <-a.done:
		t.Fatalf("serve exited early: %v\n%s", err, a.Logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-a.done
	})
	return a
}

type health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func getHealth(t *testing.T, url string) (int, health) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, h
}

// waitHealth polls /health until it answers want, or fails after limit.
func waitHealth(t *testing.T, url string, want int, limit time.Duration) health {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, h := getHealth(t, url)
		if code == want {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health still %d %v after %s, want %d", code, h, limit, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Ensure the real program serves /health against real PostgreSQL and S3,
// reports a storage outage as 503 with the s3 error within 6 s, and comes
// back by itself, for storage and for a database restart alike.
func TestServeHealthFollowsDependencies(t *testing.T) {
	t.Parallel()
	srv := testdb.NewRestartable(t)
	s3 := s3test.MustStart(t, "materials")
	a := mustServe(t, testEnv(srv.DSN, s3))

	if h := waitHealth(t, a.URL, 200, 10*time.Second); h.Checks["db"] != "ok" || h.Checks["s3"] != "ok" {
		t.Fatalf("checks %v", h.Checks)
	}

	s3.Stop()
	h := waitHealth(t, a.URL, 503, 6*time.Second)
	if h.Status != "degraded" || !strings.HasPrefix(h.Checks["s3"], "error: ") || h.Checks["db"] != "ok" {
		t.Fatalf("during s3 outage: %+v", h)
	}
	if err := s3.Start(); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, a.URL, 200, 10*time.Second)

	before, err := pgx.Connect(context.Background(), srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close(context.Background())
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := before.Ping(context.Background()); err == nil {
		t.Fatal("a connection from before the restart still works: the server was not restarted")
	}
	waitHealth(t, a.URL, 200, 30*time.Second)

	for _, want := range []string{`"event":"config_loaded"`, `"event":"app_started"`, `"event":"s3_bucket_verified"`} {
		if !strings.Contains(a.Logs.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if strings.Contains(a.Logs.String(), s3test.SecretKey) {
		t.Error("the S3 secret key was logged")
	}
}

// Ensure the healthcheck command passes on a live server, fails on a dead
// port, and with --deep fails while a dependency is down.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	s3 := s3test.MustStart(t, "materials")
	a := mustServe(t, testEnv(testdb.New(t), s3))
	hc := func(args ...string) error {
		return run(context.Background(), env{args: append([]string{"healthcheck"}, args...), stdout: io.Discard, stderr: io.Discard})
	}
	if err := hc("--url", a.URL+"/livez"); err != nil {
		t.Fatalf("livez: %v", err)
	}
	if err := hc("--url", a.Metrics+"/livez"); err != nil {
		t.Fatalf("metrics livez: %v", err)
	}
	if err := hc("--deep", "--url", a.URL+"/health"); err != nil {
		t.Fatalf("deep: %v", err)
	}
	s3.Stop()
	if err := hc("--deep", "--url", a.URL+"/health"); err == nil {
		t.Fatal("deep probe passed while storage is down")
	}
	if err := hc("--url", a.URL+"/livez"); err != nil {
		t.Fatalf("livez must not depend on storage: %v", err)
	}
	if err := hc("--url", "http://127.0.0.1:1/livez", "--timeout", "1s"); err == nil {
		t.Fatal("probe of a closed port passed")
	}
}

// Ensure SIGTERM-style cancellation stops serve cleanly.
func TestServeStopsOnSignal(t *testing.T) {
	t.Parallel()
	s3 := s3test.MustStart(t, "materials")
	a := mustServe(t, testEnv(testdb.New(t), s3))
	a.stop()
	select {
	case err := <-a.done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
		a.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(a.Logs.String(), `"event":"app_stopped"`) {
		t.Fatal("no app_stopped event")
	}
}

// Ensure migrate up/status/down/version work from the command line.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewEmpty(t)
	vars := map[string]string{"DATABASE_URL": dsn, "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "LOG_LEVEL": "error"}
	cli := func(args ...string) string {
		var out bytes.Buffer
		err := run(context.Background(), env{args: args, stdout: &out, stderr: io.Discard,
			lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	if out := cli("migrate", "up"); !strings.Contains(out, "applied") {
		t.Fatalf("up: %s", out)
	}
	if out := cli("migrate", "status"); strings.Contains(out, "pending") {
		t.Fatalf("status after up: %s", out)
	}
	cli("migrate", "down")
	if out := cli("migrate", "status"); !strings.Contains(out, "pending") {
		t.Fatalf("status after down: %s", out)
	}
	cli("migrate", "up")
	if out := strings.TrimSpace(cli("migrate", "version")); out == "0" {
		t.Fatalf("version %s", out)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mustBuild compiles the real binary once, for tests of exit codes.
func mustBuild(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cs-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "course-supporter")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// Ensure a bad configuration exits 2 with one line naming the variable.
func TestBadConfigExitsWithOneLine(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	cases := map[string]struct {
		env  []string
		want string
	}{
		"missing secret": {[]string{"POSTGRES_PASSWORD=x", "S3_ACCESS_KEY=a"}, "config: S3_SECRET_KEY: is required"},
		"bad duration":   {[]string{"POSTGRES_PASSWORD=x", "S3_ACCESS_KEY=a", "S3_SECRET_KEY=b", "SHUTDOWN_TIMEOUT=later"}, "config: SHUTDOWN_TIMEOUT: must be a duration"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, "serve")
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tc.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want) {
				t.Fatalf("stderr %q, want one line starting %q", stderr.String(), tc.want)
			}
		})
	}
}

// Ensure every command level answers --help and unknown input exits 2.
func TestHelpAndUsage(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"migrate", "up", "--help"},
		{"healthcheck", "--help"}, {"version", "--help"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage:") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	err := exec.Command(bin, "frobnicate").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("unknown command: %v", err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "course-supporter dev (commit") {
		t.Fatalf("version: %q %v", out, err)
	}
}

// Ensure /metrics answers on the internal listener only, with the HTTP,
// pool and runtime series.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	s3 := s3test.MustStart(t, "materials")
	vars := testEnv(testdb.New(t), s3)
	a := mustServe(t, vars)
	if resp, err := http.Get(a.URL + "/nope"); err == nil {
		resp.Body.Close()
	}
	ingestOne(t, a, mustAPIKey(t, vars))
	resp, err := http.Get(a.Metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`cs_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		"cs_http_request_duration_seconds_bucket", "cs_db_pool_max_connections", "go_goroutines", "process_resident_memory_bytes",
		`cs_jobs_finished_total{status="complete",type="ingest"} 1`, `cs_job_duration_seconds_count{type="ingest"} 1`,
		`cs_jobs{kind="ingest",state="completed"} 1`, "cs_worker_heartbeat_age_seconds"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if resp, err := http.Get(a.URL + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("/metrics must not be on the public listener: %v", resp.StatusCode)
	}
}

// ingestOne uploads a Markdown file through the running app and waits
// until the in-process worker has made it ready.
func ingestOne(t *testing.T, a *app, key string) {
	t.Helper()
	do := func(req *http.Request) map[string]any {
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/v1/nodes", strings.NewReader(`{"title":"Course"}`))
	req.Header.Set("Content-Type", "application/json")
	node := do(req)["id"].(string)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("source_type", "text")
	fw, _ := mw.CreateFormFile("file", "notes.md")
	_, _ = fw.Write([]byte("# Notes\n\nSome text."))
	_ = mw.Close()
	req, _ = http.NewRequest(http.MethodPost, a.URL+"/api/v1/nodes/"+node+"/materials", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	id, _ := do(req)["id"].(string)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		req, _ = http.NewRequest(http.MethodGet, a.URL+"/api/v1/materials/"+id, nil)
		m := do(req)
		if m["state"] == "ready" {
			return
		}
		if m["state"] != "pending" || time.Now().After(deadline) {
			t.Fatalf("material %v", m)
		}
	}
}

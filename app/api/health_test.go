package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/api"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/testlog"
	"github.com/course-supporter/course-supporter/app/logging"
)

type syncBuffer = testlog.Buffer

func newServer(t *testing.T, checks ...api.NamedCheck) (*api.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	log := logging.New(logs, logging.Options{Format: "json", Level: "debug"})
	return api.New(api.Deps{Log: log, Checks: checks}, api.Options{
		Version: "test", JSONBodyMax: 1 << 20, HealthTimeout: 300 * time.Millisecond,
	}), logs
}

func do(t *testing.T, s *api.Server, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := s.App().Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("body is not JSON: %q", raw)
		}
	}
	return resp, body
}

func ok() course.Checker { return course.CheckerFunc(func(context.Context) error { return nil }) }

func failing(kind string) course.Checker {
	return course.CheckerFunc(func(context.Context) error {
		return &course.HealthError{Kind: kind, Err: errors.New("dial tcp 10.0.0.1:5432: secret internals")}
	})
}

// Ensure /health reports ok with the documented body when every check passes.
func TestHealthOK(t *testing.T) {
	s, logs := newServer(t, api.NamedCheck{Name: "db", Checker: ok()}, api.NamedCheck{Name: "s3", Checker: ok()})
	resp, body := do(t, s, httptest.NewRequest(http.MethodGet, "/health", nil))
	if resp.StatusCode != 200 || body["status"] != "ok" {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
	checks := body["checks"].(map[string]any)
	if checks["db"] != "ok" || checks["s3"] != "ok" || len(body) != 3 {
		t.Fatalf("body %v", body)
	}
	ts, err := time.Parse(time.RFC3339, body["timestamp"].(string))
	if err != nil || !strings.HasSuffix(body["timestamp"].(string), "+00:00") || time.Since(ts) > time.Minute {
		t.Fatalf("timestamp %v (%v)", body["timestamp"], err)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("health must not be cached")
	}
	if strings.Contains(logs.String(), "http_request") {
		t.Fatal("/health must not be request-logged")
	}
}

// Ensure a failing dependency gives 503 degraded with only its short kind,
// never the driver's text.
func TestHealthDegraded(t *testing.T) {
	s, logs := newServer(t, api.NamedCheck{Name: "db", Checker: ok()}, api.NamedCheck{Name: "s3", Checker: failing(course.HealthUnavailable)})
	resp, body := do(t, s, httptest.NewRequest(http.MethodGet, "/health", nil))
	if resp.StatusCode != 503 || body["status"] != "degraded" {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
	checks := body["checks"].(map[string]any)
	if checks["s3"] != "error: Unavailable" || checks["db"] != "ok" {
		t.Fatalf("checks %v", checks)
	}
	if b, _ := json.Marshal(body); strings.Contains(string(b), "secret internals") {
		t.Fatal("internal error text reached the client")
	}
	if !strings.Contains(logs.String(), `"event":"health_check_error"`) {
		t.Fatal("failure not logged")
	}
}

// Ensure checks run concurrently (each waits for the other to start) and a
// hanging check is cut off by its own timeout as Timeout.
func TestHealthConcurrentAndBounded(t *testing.T) {
	var started sync.WaitGroup
	started.Add(2)
	rendezvous := course.CheckerFunc(func(ctx context.Context) error {
		started.Done()
		done := make(chan struct{})
		go func() { started.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	hang := course.CheckerFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	s, _ := newServer(t,
		api.NamedCheck{Name: "db", Checker: rendezvous},
		api.NamedCheck{Name: "s3", Checker: rendezvous},
		api.NamedCheck{Name: "queue", Checker: hang})
	_, body := do(t, s, httptest.NewRequest(http.MethodGet, "/health", nil))
	checks := body["checks"].(map[string]any)
	if checks["db"] != "ok" || checks["s3"] != "ok" || checks["queue"] != "error: Timeout" {
		t.Fatalf("checks %v", checks)
	}
}

// Ensure /livez depends on nothing.
func TestLivez(t *testing.T) {
	s, _ := newServer(t, api.NamedCheck{Name: "db", Checker: failing(course.HealthUnavailable)})
	resp, body := do(t, s, httptest.NewRequest(http.MethodGet, "/livez", nil))
	if resp.StatusCode != 200 || body["status"] != "ok" {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
}

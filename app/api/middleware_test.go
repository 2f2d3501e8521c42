package api_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Ensure a well-formed X-Request-ID is echoed and a malformed one replaced
// by a UUIDv7.
func TestRequestID(t *testing.T) {
	s, _ := newServer(t)
	req := httptest.NewRequest(http.MethodGet, "/livez", nil)
	req.Header.Set("X-Request-ID", "abc-123_x.y")
	resp, _ := do(t, s, req)
	if got := resp.Header.Get("X-Request-ID"); got != "abc-123_x.y" {
		t.Fatalf("echoed %q", got)
	}
	req = httptest.NewRequest(http.MethodGet, "/livez", nil)
	req.Header.Set("X-Request-ID", "bad id<script>")
	resp, _ = do(t, s, req)
	id, err := uuid.Parse(resp.Header.Get("X-Request-ID"))
	if err != nil || id.Version() != 7 {
		t.Fatalf("want a fresh UUIDv7, got %q", resp.Header.Get("X-Request-ID"))
	}
}

// Ensure each request logs one http_request event with the documented fields.
func TestRequestLog(t *testing.T) {
	s, logs := newServer(t)
	req := httptest.NewRequest(http.MethodGet, "/nowhere", nil)
	req.Header.Set("X-Request-ID", "req-1")
	do(t, s, req)
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, `"http_request"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line == nil {
		t.Fatalf("no http_request event in %s", logs.String())
	}
	want := map[string]any{"method": "GET", "path": "/nowhere", "status": float64(404), "request_id": "req-1", "logger": "http"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["latency_ms"].(float64); !ok {
		t.Error("latency_ms missing or not a number")
	}
}

// Ensure a panic becomes a bare 500 with no internals, logged with its stack.
func TestPanicRecovery(t *testing.T) {
	s, logs := newServer(t)
	s.App().Get("/boom", func(*fiber.Ctx) error { panic("database password is hunter2") })
	resp, body := do(t, s, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if resp.StatusCode != 500 || body["detail"] != "Internal server error" || len(body) != 1 {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "unhandled_exception") || !strings.Contains(logs.String(), "goroutine") {
		t.Fatal("panic not logged with a stack")
	}
	if !strings.Contains(logs.String(), `"status":500`) {
		t.Fatal("the 500 was not request-logged")
	}
}

// Ensure unknown routes use the error envelope and every response carries
// the security headers.
func TestNotFoundAndHeaders(t *testing.T) {
	s, _ := newServer(t)
	resp, body := do(t, s, httptest.NewRequest(http.MethodGet, "/api/v1/nope", nil))
	if resp.StatusCode != 404 || body["detail"] != "Not Found" {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
	for h, v := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Referrer-Policy": "strict-origin-when-cross-origin", "Cache-Control": "no-store",
	} {
		if resp.Header.Get(h) != v {
			t.Errorf("%s = %q, want %q", h, resp.Header.Get(h), v)
		}
	}
}

// Ensure shutdown stops accepting new connections but lets an in-flight
// request finish.
func TestGracefulShutdownDrains(t *testing.T) {
	s, _ := newServer(t)
	release := make(chan struct{})
	s.App().Get("/slow", func(c *fiber.Ctx) error {
		<-release
		return c.SendString("done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	result := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b := make([]byte, 4)
		n, _ := resp.Body.Read(b)
		result <- string(b[:n])
	}()
	time.Sleep(200 * time.Millisecond) // let the request arrive
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	time.Sleep(200 * time.Millisecond)
	if _, err := http.Get(url + "/livez"); err == nil {
		t.Error("new connections are still accepted during shutdown")
	}
	close(release)
	if got := <-result; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

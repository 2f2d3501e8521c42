package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/postgres"
)

// Ensure a request while PostgreSQL refuses connections (down, or
// restarting) gets a 503 with {"detail": ...} and no driver text, not a
// 500: the client should retry, and no bug is reported. The fault drill of
// bench/load found the 500s.
func TestDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	_ = l.Close() // nothing listens there now: connection refused
	db, err := postgres.Open(context.Background(),
		fmt.Sprintf("postgres://postgres:x@%s/none?sslmode=disable&connect_timeout=2", dead), postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := mustStackOn(t, db)
	key := "cs_test_" + strings.Repeat("ab", 16)
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/nodes"},                                           // the key lookup fails
		{http.MethodPost, "/api/v1/nodes"},                                          // a write
		{http.MethodGet, "/api/v1/nodes/0193a5d2-7c1e-7000-8000-000000000001/tree"}, // a read
	} {
		r := s.call(c.method, c.path, key, map[string]any{"title": "x"})
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("%s %s: %d %s, want 503", c.method, c.path, r.Status, r.Raw)
		}
		if d, _ := r.json(t)["detail"].(string); d != "Service temporarily unavailable, try again" {
			t.Fatalf("%s %s: detail %q", c.method, c.path, d)
		}
		if strings.Contains(string(r.Raw), dead) || strings.Contains(string(r.Raw), "connect") {
			t.Fatalf("driver text reached the client: %s", r.Raw)
		}
	}
}

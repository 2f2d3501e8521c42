package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

// Ensure profiles are served on the internal metrics listener and never on
// the public API port.
func TestPprofOnMetricsListenerOnly(t *testing.T) {
	t.Parallel()
	a := mustServe(t, testEnv(testdb.New(t), s3test.MustStart(t, "materials")))
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		if code, _ := get(a.URL + path); code != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, code)
		}
	}
	if code, body := get(a.Metrics + "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("metrics /debug/pprof/: %d %.200s", code, body)
	}
	if code, body := get(a.Metrics + "/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("metrics goroutine profile: %d %.200s", code, body)
	}
	if code, body := get(a.Metrics + "/debug/pprof/heap"); code != 200 || len(body) == 0 {
		t.Fatalf("metrics heap profile: %d, %d bytes", code, len(body))
	}
}

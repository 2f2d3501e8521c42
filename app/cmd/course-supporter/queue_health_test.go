package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/internal/testlog"
)

// Ensure /health reports the queue degraded while no worker runs, and ok
// once a worker process writes heartbeats; the worker's /livez and
// heartbeat metric are served on its metrics listener.
func TestHealthQueueNeedsAWorker(t *testing.T) {
	t.Parallel()
	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	vars["WORKER_IN_PROCESS"] = "false"
	a := mustServe(t, vars)
	h := waitHealth(t, a.URL, 503, 10*time.Second)
	if h.Checks["queue"] != "error: NoActiveWorker" || h.Checks["db"] != "ok" || h.Checks["s3"] != "ok" {
		t.Fatalf("without workers: %+v", h)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done, metrics := make(chan error, 1), make(chan string, 1)
	logs := &testlog.Buffer{}
	go func() {
		done <- run(ctx, env{args: []string{"worker"}, stdout: logs, stderr: logs,
			lookup:      func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			onListening: func(_, m string) { metrics <- "http://" + m }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	if h := waitHealth(t, a.URL, 200, 10*time.Second); h.Checks["queue"] != "ok" {
		t.Fatalf("with a worker: %+v", h)
	}
	var base string
	select {
	case base = <-metrics:
	case <-time.After(10 * time.Second):
		t.Fatalf("worker metrics listener not reported\n%s", logs.String())
	}
	for path, want := range map[string]string{"/livez": `{"status":"ok"}`, "/metrics": "cs_worker_heartbeat_age_seconds "} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.300s", path, resp.StatusCode, b)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

// TestServeStopsWithinShutdownTimeout: with in-process workers, a stop
// used to drain HTTP for up to SHUTDOWN_TIMEOUT and only then give the
// workers WORKER_SHUTDOWN_TIMEOUT plus a cancellation phase, longer than
// the container's stop grace, so running jobs were SIGKILLed on every
// deploy. Now both run at once within SHUTDOWN_TIMEOUT, and the running
// job is handed back (queued, its attempt not counted) before the exit.
func TestServeStopsWithinShutdownTimeout(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	started := make(chan struct{}, 1)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		select { // the job's fetch hangs until it is cancelled
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(page.Close)
	t.Cleanup(func() { close(hang) })
	_, port, _ := net.SplitHostPort(page.Listener.Addr().String())
	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	for k, v := range map[string]string{
		"FETCH_ALLOW_PRIVATE_NETWORKS": "true", "FETCH_ALLOWED_PORTS": port, "FETCH_TIMEOUT": "5m",
		"SHUTDOWN_TIMEOUT": "4s", "WORKER_SHUTDOWN_TIMEOUT": "20s", "WORKER_TMP_DIR": t.TempDir(),
	} {
		vars[k] = v
	}
	a := mustServe(t, vars)
	key := mustAPIKey(t, vars)
	c := client{t: t, url: a.URL, key: key}
	node := c.do(http.MethodPost, "/api/v1/nodes", "application/json", []byte(`{"title":"Course"}`))["id"].(string)
	_, job := c.material(node, map[string]string{"source_type": "web", "source_url": page.URL + "/slow"}, "", nil)
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatalf("the job never started\n%s", a.Logs.String())
	}
	// An upload in flight that never finishes keeps the HTTP drain busy.
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/nodes/%s/materials HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n%s",
		node, key, bytes.Repeat([]byte("-"), 9000))
	time.Sleep(300 * time.Millisecond)

	stop := time.Now()
	a.stop()
	select {
	case err := <-a.done:
		a.done <- err // for mustServe's cleanup
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop")
	}
	took := time.Since(stop)
	t.Logf("serve stopped %s after the signal (SHUTDOWN_TIMEOUT=4s)", took.Round(10*time.Millisecond))
	if took > 6*time.Second {
		t.Errorf("serve took %s to stop, more than SHUTDOWN_TIMEOUT 4s + 2s: the container's grace would SIGKILL it", took)
	}
	var status string
	var attempt int
	conn2, err := pgx.Connect(context.Background(), vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(context.Background())
	if err := conn2.QueryRow(context.Background(), `SELECT status, attempt FROM jobs WHERE id = $1`, job).Scan(&status, &attempt); err != nil {
		t.Fatal(err)
	}
	if status != "queued" || attempt != 0 {
		t.Errorf("job after the stop: %s, attempt %d; want queued with its attempt given back", status, attempt)
	}
}

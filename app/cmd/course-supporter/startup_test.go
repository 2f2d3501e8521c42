package main

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

// Ensure an object store that accepts connections but never answers does
// not hold start-up back: serve listens well within the start-up bucket
// check's 5 s bound, /livez answers, and the failed check is still logged
// (docs/performance.md, "Footprint").
func TestServeStartsWhileStorageHangs(t *testing.T) {
	t.Parallel()
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn // accepted, never answered
	t.Cleanup(func() {
		_ = hang.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	vars["S3_ENDPOINT"] = "http://" + hang.Addr().String()

	start := time.Now()
	a := mustServe(t, vars)
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("serve listened after %s: start-up waited for the bucket check", took)
	}
	resp, err := http.Get(a.URL + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/livez %d while storage hangs", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(a.Logs.String(), `"event":"s3_bucket_not_found"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the failed bucket check was not logged:\n%s", a.Logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

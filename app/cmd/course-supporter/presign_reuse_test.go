package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// mustWorker runs `course-supporter worker` in this process until the test
// ends.
func mustWorker(t *testing.T, vars map[string]string) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &app{Logs: &lockedBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() {
		a.done <- run(ctx, env{args: []string{"worker"},
			lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			stdout: a.Logs, stderr: a.Logs, onListening: func(string, string) {}})
	}()
	t.Cleanup(func() { cancel(); <-a.done })
	return a
}

// TestPresignedURLReuseAfterConfirm: a presigned PUT URL stays valid for
// its whole TTL, also after confirm-upload. Reused to replace the checked
// object, the worker used to ingest whatever was there; now the size is
// signed (another length is refused by storage's signature check), the
// ETag seen at confirmation is recorded, and the worker reads only that
// version (If-Match, at most the confirmed size): a replaced object fails
// the material with a clear message and nothing of it is processed.
func TestPresignedURLReuseAfterConfirm(t *testing.T) {
	t.Parallel()
	endpoint, access, secret := versitygw(t, "materials")
	vars := testEnv(testdb.New(t), &s3test.Server{URL: endpoint, Bucket: "materials"})
	vars["S3_ACCESS_KEY"], vars["S3_SECRET_KEY"] = access, secret
	vars["WORKER_IN_PROCESS"] = "false" // the worker starts only after the swap
	a := mustServe(t, vars)
	key := mustAPIKey(t, vars)
	call := func(method, path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, a.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, node := call(http.MethodPost, "/api/v1/nodes", map[string]any{"title": "Course"})
	if code != 201 {
		t.Fatalf("create node: %d %v", code, node)
	}
	base := "/api/v1/nodes/" + node["id"].(string) + "/materials"
	good := testfiles.PDF("The confirmed slide")
	evil := testfiles.PDF("A swapped-in slide!")
	if len(good) != len(evil) {
		t.Fatalf("test files differ in length: %d, %d", len(good), len(evil))
	}
	req := map[string]any{"filename": "deck.pdf", "content_type": "application/pdf", "source_type": "presentation"}
	if code, m := call(http.MethodPost, base+"/upload-url", req); code != http.StatusUnprocessableEntity {
		t.Fatalf("upload-url without size_bytes: %d %v, want 422", code, m)
	}
	req["size_bytes"] = len(good)
	code, p := call(http.MethodPost, base+"/upload-url", req)
	if code != 200 || p["headers"].(map[string]any)["Content-Length"] == nil {
		t.Fatalf("upload-url: %d %v", code, p)
	}
	put := func(body []byte) int {
		r, _ := http.NewRequest(http.MethodPut, p["upload_url"].(string), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/pdf")
		r.ContentLength = int64(len(body))
		resp, err := http.DefaultClient.Do(r)
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			// The server answered and closed before the whole body was
			// sent: a refusal, whose status the client never read.
			return http.StatusForbidden
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	big := append(bytes.Clone(good), bytes.Repeat([]byte(" "), 1<<20)...)
	if got := put(big); got != http.StatusForbidden {
		t.Fatalf("PUT of another size than signed answered %d, want 403", got)
	}
	if got := put(good); got != http.StatusOK {
		t.Fatalf("PUT answered %d", got)
	}
	code, m := call(http.MethodPost, base+"/confirm-upload", map[string]any{"key": p["key"], "source_type": "presentation"})
	if code != 201 {
		t.Fatalf("confirm: %d %v", code, m)
	}
	// The attack: the same URL, still valid, replaces the checked object.
	if got := put(evil); got != http.StatusOK {
		t.Fatalf("reuse PUT answered %d (storage refused it: the attack needs another route)", got)
	}
	w := mustWorker(t, vars)
	c := client{t: t, url: a.URL, key: key}
	got := c.settled(m["id"].(string), 60*time.Second, func() string { return a.Logs.String() + w.Logs.String() })
	c.failedOnce("replaced object", got, m["job_id"].(string), "Stored file changed after the upload was confirmed")
	if got["processed_content"] != nil {
		t.Errorf("the replaced object was processed: %v", got)
	}
}

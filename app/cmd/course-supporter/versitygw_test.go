package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// versitygw starts a real S3 server that verifies SigV4 signatures, with
// its posix backend in a temporary directory, and one bucket.
func versitygw(t *testing.T, bucket string) (endpoint, access, secret string) {
	t.Helper()
	return s3test.Versitygw(t, bucket)
}

// Ensure presign → PUT → confirm works against a server that checks the
// signature, and that a PUT with another content type than the signed one
// is refused.
func TestPresignedUploadAgainstVersitygw(t *testing.T) {
	t.Parallel()
	endpoint, access, secret := versitygw(t, "materials")
	vars := testEnv(testdb.New(t), &s3test.Server{URL: endpoint, Bucket: "materials"})
	vars["S3_ACCESS_KEY"], vars["S3_SECRET_KEY"] = access, secret
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
	nodeID := node["id"].(string)
	pdf := testfiles.PDF("Presigned slide")
	code, p := call(http.MethodPost, "/api/v1/nodes/"+nodeID+"/materials/upload-url",
		map[string]any{"filename": "deck.pdf", "content_type": "application/pdf", "source_type": "presentation", "size_bytes": len(pdf)})
	if code != 200 {
		t.Fatalf("upload-url: %d %v", code, p)
	}
	put := func(ct string) int {
		req, _ := http.NewRequest(http.MethodPut, p["upload_url"].(string), bytes.NewReader(pdf))
		req.Header.Set("Content-Type", ct)
		req.ContentLength = int64(len(pdf))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := put("text/plain"); got != http.StatusForbidden {
		t.Fatalf("PUT with an unsigned content type answered %d, want 403 from the signature check", got)
	}
	if got := put("application/pdf"); got != http.StatusOK {
		t.Fatalf("PUT answered %d", got)
	}
	code, m := call(http.MethodPost, "/api/v1/nodes/"+nodeID+"/materials/confirm-upload",
		map[string]any{"key": p["key"], "source_type": "presentation"})
	if code != 201 || m["state"] != "pending" {
		t.Fatalf("confirm: %d %v", code, m)
	}
	// The in-process worker downloads the object (signed GET) and ingests it.
	var got map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, got = call(http.MethodGet, "/api/v1/materials/"+m["id"].(string), nil)
		if code != 200 || got["state"] != "pending" || time.Now().After(deadline) {
			break
		}
	}
	if got["state"] != "ready" || got["raw_size_bytes"] != float64(len(pdf)) {
		t.Fatalf("material: %d %v", code, got)
	}
}

// mustAPIKey creates a tenant and a prep+check key through the real CLI.
func mustAPIKey(t *testing.T, vars map[string]string) string {
	t.Helper()
	mustCLI(t, vars, "tenant", "create", "--name", "e2e")
	out := mustJSON[map[string]any](t, mustCLI(t, vars, "key", "create", "--tenant", "e2e", "--scopes", "prep,check", "--json"))
	k, _ := out["key"].(string)
	if k == "" {
		t.Fatalf("no key in %v", out)
	}
	return k
}

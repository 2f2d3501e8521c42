package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Ensure deleting a material, a node subtree or a stored file removes the
// rows at once and the objects through the retried cleanup job, even when
// storage is down during the delete.
func TestDeletionIsDurable(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "Course")
	child := s.mustCreate(key, root, "Chapter")
	up := func(node, name string) string {
		r := s.upload(key, node, field("source_type", "text"), file(name, []byte("text of "+name)))
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		return r.json(t)["id"].(string)
	}
	m1 := up(root, "a.txt")
	up(child, "b.txt")
	up(child, "c.txt")
	loose := s.upload(key, root, field("source_type", "text"), file("d.txt", []byte("d"))).json(t)["id"].(string)
	if len(s.objects()) != 4 {
		t.Fatalf("objects %v", s.objects())
	}

	s.s3.Stop() // storage outage during the deletes
	if r := s.call(http.MethodDelete, "/api/v1/materials/"+m1, key, nil); r.Status != 204 {
		t.Fatalf("delete material: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodDelete, "/api/v1/nodes/"+child, key, nil); r.Status != 204 {
		t.Fatalf("delete node: %d %s", r.Status, r.Raw)
	}
	var looseKey string
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT storage_key FROM material_entries WHERE id = $1`, loose).Scan(&looseKey); err != nil {
		t.Fatal(err)
	}
	if r := s.call(http.MethodDelete, "/api/v1/storage/files/"+looseKey, key, nil); r.Status != 204 {
		t.Fatalf("delete stored file: %d %s", r.Status, r.Raw)
	}
	if n := s.count(`SELECT count(*) FROM material_entries`); n != 0 {
		t.Fatalf("%d material rows remain", n)
	}
	if n := s.count(`SELECT count(*) FROM river_job WHERE kind = 'storage_cleanup'`); n != 3 {
		t.Fatalf("%d cleanup jobs, want 3", n)
	}
	s.startWorkers()
	eventually(t, 20*time.Second, "a failed cleanup attempt", func() bool {
		return s.count(`SELECT count(*) FROM river_job WHERE kind = 'storage_cleanup' AND state = 'retryable'`) > 0
	})
	if err := s.s3.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 40*time.Second, "every object to be deleted", func() bool { return len(s.objects()) == 0 })
	eventually(t, 10*time.Second, "cleanup jobs to complete", func() bool {
		return s.count(`SELECT count(*) FROM river_job WHERE kind = 'storage_cleanup' AND state = 'completed'`) == 3
	})
	_ = tenant
}

// Ensure presign → PUT → confirm works, and confirm enforces its checks in
// the documented order.
func TestPresignedUpload(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	other := s.mustCreate(key, "", "Other")
	presign := func(filename, ct string, size int) reply {
		return s.call(http.MethodPost, "/api/v1/nodes/"+node+"/materials/upload-url", key,
			map[string]any{"filename": filename, "content_type": ct, "source_type": "presentation", "size_bytes": size})
	}
	r := presign("deck.pdf", "application/pdf", len(pdfBytes))
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	p := r.json(t)
	objKey := p["key"].(string)
	if !strings.HasPrefix(objKey, fmt.Sprintf("tenants/%s/nodes/%s/", tenant, node)) || p["expires_in"] != 900.0 || p["method"] != "PUT" {
		t.Fatalf("presign: %s", r.Raw)
	}
	if n := s.count(`SELECT count(*) FROM material_entries`); n != 0 {
		t.Fatal("upload-url must not create a row")
	}
	req, _ := http.NewRequest(http.MethodPut, p["upload_url"].(string), bytes.NewReader(pdfBytes))
	for h, v := range p["headers"].(map[string]any) {
		req.Header.Set(h, v.(string))
	}
	req.ContentLength = int64(len(pdfBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT %d", resp.StatusCode)
	}
	confirm := func(node, k string) reply {
		return s.call(http.MethodPost, "/api/v1/nodes/"+node+"/materials/confirm-upload", key,
			map[string]any{"key": k, "source_type": "presentation"})
	}
	if r := confirm(other, objKey); r.Status != 403 || r.detail(t) != "S3 key does not match tenant/node." {
		t.Fatalf("wrong node: %d %s", r.Status, r.Raw)
	}
	r = confirm(node, objKey)
	if r.Status != 201 || r.json(t)["state"] != "pending" || len(r.json(t)["warnings"].([]any)) != 0 {
		t.Fatalf("confirm: %d %s", r.Status, r.Raw)
	}
	if r := confirm(node, objKey); r.Status != 409 || r.detail(t) != "Upload already confirmed." {
		t.Fatalf("double confirm: %d %s", r.Status, r.Raw)
	}
	missing := fmt.Sprintf("tenants/%s/nodes/%s/x/missing.pdf", tenant, node)
	if r := confirm(node, missing); r.Status != 404 || r.detail(t) != "File not found in S3. Upload may have failed or expired." {
		t.Fatalf("missing: %d %s", r.Status, r.Raw)
	}
	// A fake PDF uploaded behind the API's back is refused and removed.
	fake := fmt.Sprintf("tenants/%s/nodes/%s/y/fake.pdf", tenant, node)
	if _, err := s.store.Upload(context.Background(), fake, "application/pdf", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if r := confirm(node, fake); r.Status != 422 || r.detail(t) != "File content does not match extension '.pdf'." {
		t.Fatalf("sniff: %d %s", r.Status, r.Raw)
	}
	eventually(t, 5*time.Second, "the fake object to be deleted", func() bool {
		for _, o := range s.objects() {
			if o == fake {
				return false
			}
		}
		return true
	})
	if r := presign("deck.pdf", "text/plain", 10); r.Status != 422 || r.detail(t) != "Content type 'text/plain' is not allowed for extension '.pdf'." {
		t.Fatalf("content type: %d %s", r.Status, r.Raw)
	}
	if r := presign("deck.pdf", "application/pdf", 2<<30); r.Status != 413 {
		t.Fatalf("size: %d %s", r.Status, r.Raw)
	}
	r = s.call(http.MethodPost, "/api/v1/nodes/"+node+"/materials/upload-url", key,
		map[string]any{"filename": "a.html", "content_type": "text/html", "source_type": "web", "size_bytes": 10})
	if r.Status != 422 || r.detail(t) != "source_type 'web' does not support file upload." {
		t.Fatalf("web: %d %s", r.Status, r.Raw)
	}
}

// Ensure the storage API sees only the caller's prefix and refuses keys of
// other tenants with 403.
func TestStorageAPI(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	other, otherKey := s.tenantWithKey("other")
	node := s.mustCreate(key, "", "Course")
	s.upload(key, node, field("source_type", "text"), file("a.txt", []byte("12345")))
	s.upload(key, node, field("source_type", "text"), file("b.txt", []byte("123")))
	otherNode := s.mustCreate(otherKey, "", "Theirs")
	s.upload(otherKey, otherNode, field("source_type", "text"), file("c.txt", []byte("1")))

	r := s.call(http.MethodGet, "/api/v1/storage/files", key, nil)
	var files []map[string]any
	mustJSON(t, r.Raw, &files)
	if len(files) != 2 || files[0]["size_bytes"] == nil || files[0]["last_modified"] == nil {
		t.Fatalf("files: %s", r.Raw)
	}
	u := s.call(http.MethodGet, "/api/v1/storage/usage", key, nil).json(t)
	if u["total_bytes"] != 8.0 || u["file_count"] != 2.0 {
		t.Fatalf("usage %v", u)
	}
	foreign := fmt.Sprintf("tenants/%s/nodes/%s/x/c.txt", other, otherNode)
	if r := s.call(http.MethodDelete, "/api/v1/storage/files/"+foreign, key, nil); r.Status != 403 || r.detail(t) != "Key does not belong to tenant." {
		t.Fatalf("foreign delete: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodDelete, "/api/v1/storage/files/"+files[0]["key"].(string), key, nil); r.Status != 204 {
		t.Fatalf("own delete: %d %s", r.Status, r.Raw)
	}
	if n := s.count(`SELECT count(*) FROM material_entries WHERE storage_key = $1`, files[0]["key"]); n != 0 {
		t.Fatal("the material of a deleted file survived")
	}
	s.s3.Stop()
	if r := s.call(http.MethodGet, "/api/v1/storage/usage", key, nil); r.Status != 503 || r.detail(t) != "Storage unavailable" {
		t.Fatalf("outage: %d %s", r.Status, r.Raw)
	}
}

package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/intake"
)

// Ensure a streamed file becomes a material with its hash and size, under
// the documented key layout, whatever the order of the parts.
func TestUploadStreamsFile(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	content := []byte("# Lesson one\n\nHello.\n")
	for _, order := range []string{"fields first", "file first"} {
		parts := []formPart{field("source_type", "text"), file("../../etc/Lesson One.md", content)}
		if order == "file first" {
			parts = []formPart{parts[1], parts[0]}
		}
		r := s.upload(key, node, parts...)
		if r.Status != 201 {
			t.Fatalf("%s: %d %s", order, r.Status, r.Raw)
		}
		m := r.json(t)
		if m["state"] != "pending" || m["job_id"] == nil || m["source_type"] != "text" || len(m["warnings"].([]any)) != 0 {
			t.Fatalf("%s: %s", order, r.Raw)
		}
		got := s.call(http.MethodGet, "/api/v1/materials/"+m["id"].(string), key, nil).json(t)
		sk := got["storage_key"].(string)
		prefix := fmt.Sprintf("tenants/%s/nodes/%s/", tenant, node)
		if !strings.HasPrefix(sk, prefix) || !strings.HasSuffix(sk, "/Lesson_One.md") || strings.Count(sk, "/") != 5 {
			t.Fatalf("storage key %q", sk)
		}
		if got["raw_size_bytes"] != float64(len(content)) {
			t.Fatalf("size %v", got["raw_size_bytes"])
		}
		var rawHash string
		if err := s.db.Pool.QueryRow(context.Background(), `SELECT raw_hash FROM material_entries WHERE id = $1`, m["id"]).Scan(&rawHash); err != nil || rawHash != sha(content) {
			t.Fatalf("raw_hash %q (%v)", rawHash, err)
		}
		stored, err := s.store.ReadPrefix(context.Background(), sk, 1<<20)
		if err != nil || !bytes.Equal(stored, content) {
			t.Fatalf("stored object differs: %q %v", stored, err)
		}
	}
	list := s.call(http.MethodGet, "/api/v1/nodes/"+node+"/materials", key, nil)
	var items []map[string]any
	mustJSON(t, list.Raw, &items)
	if len(items) != 2 || items[0]["order"] != 0.0 || items[1]["order"] != 1.0 {
		t.Fatalf("list: %s", list.Raw)
	}
	detail := s.call(http.MethodGet, "/api/v1/nodes/"+node+"/detail", key, nil)
	if !contains(string(detail.Raw), `"state":"pending"`) {
		t.Fatalf("detail lacks the materials: %s", detail.Raw)
	}
}

// Ensure a file larger than one part goes up as a multipart upload intact.
func TestUploadMultipartObject(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	content := bytes.Repeat([]byte("0123456789abcdef\n"), (12<<20)/17)
	r := s.upload(key, node, field("source_type", "text"), file("big.txt", content))
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	got := s.call(http.MethodGet, "/api/v1/materials/"+r.json(t)["id"].(string), key, nil).json(t)
	if got["raw_size_bytes"] != float64(len(content)) {
		t.Fatalf("size %v, want %d", got["raw_size_bytes"], len(content))
	}
	stored, err := s.store.ReadPrefix(context.Background(), got["storage_key"].(string), int64(len(content)+1))
	if err != nil || sha(stored) != sha(content) {
		t.Fatalf("stored object differs (%d bytes, %v)", len(stored), err)
	}
}

// Ensure every refused upload answers the documented error and leaves no
// row and no object behind.
func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	s := mustStack(t).withIntake(func(o *intake.Options) { o.MaxBytes = 1 << 20 })
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	cases := []struct {
		name   string
		parts  []formPart
		status int
		detail string
	}{
		{"extension", []formPart{field("source_type", "text"), file("x.exe", []byte("MZ"))}, 422,
			"File extension '.exe' is not allowed for source_type 'text'. Accepted: ['.md', '.markdown', '.docx', '.html', '.htm', '.txt']"},
		{"extension after file", []formPart{file("x.exe", []byte("MZ")), field("source_type", "video")}, 422,
			"File extension '.exe' is not allowed for source_type 'video'. Accepted: ['.mp4', '.webm', '.mkv', '.avi']"},
		{"sniff", []formPart{field("source_type", "presentation"), file("slides.pdf", []byte("not a pdf"))}, 422,
			"File content does not match extension '.pdf'."},
		{"sniff after file", []formPart{file("slides.pdf", []byte("not a pdf")), field("source_type", "presentation")}, 422,
			"File content does not match extension '.pdf'."},
		{"too large", []formPart{field("source_type", "text"), file("big.txt", bytes.Repeat([]byte("a"), 1<<20+1))}, 413,
			"File too large. Maximum size is 1048576 bytes."},
		{"web file", []formPart{field("source_type", "web"), file("page.html", []byte("<p>x</p>"))}, 422,
			"source_type 'web' does not accept file uploads, provide source_url instead."},
		{"web file after", []formPart{file("page.html", []byte("<p>x</p>")), field("source_type", "web")}, 422,
			"source_type 'web' does not accept file uploads, provide source_url instead."},
		{"nothing", []formPart{field("source_type", "text")}, 422, "Either source_url or file must be provided"},
		{"bad url", []formPart{field("source_type", "web"), field("source_url", "ftp://x")}, 422, "source_url must be an absolute http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.with(t).upload(key, node, tc.parts...)
			if r.Status != tc.status || r.detail(t) != tc.detail {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	r := s.upload(key, node, file("a.txt", []byte("x")))
	items, _ := r.json(t)["detail"].([]any)
	if r.Status != 422 || len(items) != 1 || items[0].(map[string]any)["type"] != "missing" {
		t.Fatalf("missing source_type: %d %s", r.Status, r.Raw)
	}
	req := s.call(http.MethodPost, "/api/v1/nodes/"+node+"/materials", key, "{}")
	if req.Status != 415 {
		t.Fatalf("JSON to the multipart route: %d", req.Status)
	}
	eventually(t, 5*time.Second, "discarded objects to disappear", func() bool { return len(s.objects()) == 0 })
	if n := s.count(`SELECT count(*) FROM material_entries`); n != 0 {
		t.Fatalf("%d rows left", n)
	}
}

// Ensure URL materials get the platform warning only off the verified list.
func TestURLMaterials(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	r := s.upload(key, node, field("source_type", "web"), field("source_url", "https://blog.Example.com/post"))
	w := r.json(t)["warnings"].([]any)
	if r.Status != 201 || len(w) != 1 || w[0] != "Platform 'blog.example.com' is not in the verified list for 'web'. Processing may fail or produce poor results." {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	r = s.upload(key, node, field("source_type", "video"), field("source_url", "https://www.youtube.com/watch?v=x"))
	if r.Status != 201 || len(r.json(t)["warnings"].([]any)) != 0 || r.json(t)["source_url"] != "https://www.youtube.com/watch?v=x" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if len(s.objects()) != 0 {
		t.Fatal("URL materials must not touch storage")
	}
}

// Ensure retry is refused unless the material failed, and clears the error.
func TestRetry(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	id := s.upload(key, node, field("source_type", "web"), field("source_url", "https://github.com/x")).json(t)["id"].(string)
	r := s.call(http.MethodPost, "/api/v1/materials/"+id+"/retry", key, nil)
	if r.Status != 409 || r.detail(t) != "Cannot retry: material is in 'pending' state, expected 'error' or 'integrity_broken'." {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	first := s.call(http.MethodGet, "/api/v1/materials/"+id, key, nil).json(t)["job_id"].(string)
	s.exec(`UPDATE material_entries SET error_message = 'boom', job_id = NULL WHERE id = $1`, id)
	if st := s.call(http.MethodGet, "/api/v1/materials/"+id, key, nil).json(t)["state"]; st != "error" {
		t.Fatalf("state %v", st)
	}
	r = s.call(http.MethodPost, "/api/v1/materials/"+id+"/retry", key, nil)
	if r.Status != 200 || r.json(t)["state"] != "pending" || r.json(t)["job_id"] == first {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	// The retry superseded the first job, which cannot run any more.
	if j := s.call(http.MethodGet, "/api/v1/jobs/"+first, key, nil).json(t); j["status"] != "cancelled" {
		t.Fatalf("first job: %v", j)
	}
}

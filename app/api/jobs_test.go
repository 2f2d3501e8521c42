package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/ingest"
)

// addJob inserts a waiting generate job of tenant that depends on deps.
func (s *stack) addJob(tenant uuid.UUID, deps ...string) string {
	s.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	s.exec(`INSERT INTO jobs (id, tenant_id, job_type, max_attempts) VALUES ($1, $2, 'generate', 3)`, id, tenant)
	for _, d := range deps {
		s.exec(`INSERT INTO job_dependencies (job_id, depends_on_job_id) VALUES ($1, $2)`, id, d)
	}
	return id
}

// Ensure a failed job fails its dependents transitively with "Dependency
// <id> failed" naming the immediate failed dependency, and that a job whose
// dependency failed fails at its start guard instead of running.
func TestDependencyFailurePropagates(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	bad := s.upload(key, node, field("source_type", "presentation"), file("bad.pdf", []byte("%PDF-1.4\nbroken"))).json(t)
	good := s.upload(key, node, field("source_type", "text"), file("good.md", []byte("# Good\n\nFine."))).json(t)
	ja, jb := bad["job_id"].(string), good["job_id"].(string)
	g := s.addJob(tenant, ja)
	h := s.addJob(tenant, g)
	s.exec(`INSERT INTO job_dependencies (job_id, depends_on_job_id) VALUES ($1, $2)`, jb, ja)

	s.startWorkersWith(&ingest.Processor{TmpDir: t.TempDir()})
	job := func(id string) map[string]any { return s.call(http.MethodGet, "/api/v1/jobs/"+id, key, nil).json(t) }
	eventually(t, 30*time.Second, "the good material's job ends", func() bool { return job(jb)["status"] != "queued" })
	want := map[string][2]string{
		ja: {"failed", "PDF is encrypted, empty or unreadable"},
		g:  {"failed", "Dependency " + ja + " failed"},
		h:  {"failed", "Dependency " + g + " failed"},
		jb: {"failed", "Dependency " + ja + " failed"},
	}
	for id, w := range want {
		j := job(id)
		if j["status"] != w[0] || j["error_message"] != w[1] || j["completed_at"] == nil {
			t.Errorf("job %s: %v, want %s %q", id, j, w[0], w[1])
		}
	}
	if d := job(h)["depends_on"].([]any); len(d) != 1 || d[0] != g {
		t.Errorf("depends_on of h: %v", d)
	}
	if j := job(jb); j["attempt"] != 0.0 || j["started_at"] != nil {
		t.Errorf("a job with a failed dependency ran: %v", j)
	}
	m := s.call(http.MethodGet, "/api/v1/materials/"+good["id"].(string), key, nil).json(t)
	if m["state"] != "error" || m["error_message"] != "Dependency "+ja+" failed" {
		t.Errorf("good material: %v", m)
	}
}

// Ensure deleting a material or a node cancels its unfinished jobs and
// their queue records.
func TestDeleteCancelsJobs(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "Course")
	child := s.mustCreate(key, root, "Chapter")
	m1 := s.upload(key, child, field("source_type", "text"), file("a.md", []byte("# A"))).json(t)
	m2 := s.upload(key, child, field("source_type", "text"), file("b.md", []byte("# B"))).json(t)
	if r := s.call(http.MethodDelete, "/api/v1/materials/"+m1["id"].(string), key, nil); r.Status != 204 {
		t.Fatalf("delete material: %d", r.Status)
	}
	if r := s.call(http.MethodDelete, "/api/v1/nodes/"+root, key, nil); r.Status != 204 {
		t.Fatalf("delete node: %d", r.Status)
	}
	for id, msg := range map[string]string{m1["job_id"].(string): "Material deleted", m2["job_id"].(string): "Node deleted"} {
		j := s.call(http.MethodGet, "/api/v1/jobs/"+id, key, nil).json(t)
		if j["status"] != "cancelled" || j["error_message"] != msg || j["materialentry_id"] != nil {
			t.Errorf("job %s: %v, want cancelled %q", id, j, msg)
		}
		if st := s.one(`SELECT state::text FROM river_job WHERE id = $1`, s.queueID(id)); st != "cancelled" {
			t.Errorf("river job of %s: %s", id, st)
		}
	}
}

// Ensure deleting a material while its ingest job runs cancels the job,
// and the worker, finding the job cancelled, stores nothing.
func TestDeleteDuringIngest(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}, 1), make(chan struct{})
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<html><body><article><h1>Late</h1><p>A page that answers only after its material was deleted.</p></article></body></html>`))
	}))
	t.Cleanup(page.Close)
	t.Cleanup(func() { close(release) })
	s, _ := ingestStack(t, serverPort(t, page))
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	m := s.upload(key, node, field("source_type", "web"), field("source_url", page.URL+"/late")).json(t)
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the job never fetched the page")
	}
	if r := s.call(http.MethodDelete, "/api/v1/materials/"+m["id"].(string), key, nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	job := m["job_id"].(string)
	eventually(t, 30*time.Second, "river job finished", func() bool {
		st := s.one(`SELECT state::text FROM river_job WHERE id = $1`, s.queueID(job))
		return st == "cancelled" || st == "completed" || st == "discarded"
	})
	j := s.call(http.MethodGet, "/api/v1/jobs/"+job, key, nil).json(t)
	if j["status"] != "cancelled" || j["error_message"] != "Material deleted" {
		t.Fatalf("job %v", j)
	}
	if n := s.count(`SELECT count(*) FROM material_chunks`); n != 0 {
		t.Fatalf("%d chunks stored for a deleted material", n)
	}
}

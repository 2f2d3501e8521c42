package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/fetch"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// Ensure malformed files end in state error with a readable message after
// one attempt (retrying cannot fix them), and the worker goes on working.
func TestIngestMalformedFiles(t *testing.T) {
	t.Parallel()
	s, _ := ingestStackWith(t, fetch.Options{}) // production SSRF rules
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	clip := clipBytes(t)
	cases := []struct {
		name  string
		parts []formPart
		msg   string
	}{
		{"pdf", []formPart{field("source_type", "presentation"), file("broken.pdf", []byte("%PDF-1.4\nthis is not a pdf body\n"))},
			"PDF is encrypted, empty or unreadable"},
		{"docx", []formPart{field("source_type", "text"), file("broken.docx", testfiles.Zip(t, "hello.txt", "not a document"))},
			"File is not a valid document archive"},
		{"pptx", []formPart{field("source_type", "presentation"), file("broken.pptx", []byte("PK\x03\x04 truncated"))},
			"File is not a valid document archive"},
		{"video", []formPart{field("source_type", "video"), file("broken.mp4", clip[:600])},
			"File could not be processed (ffprobe failed)"},
		{"empty text", []formPart{field("source_type", "text"), file("empty.md", []byte("  \n\n  "))},
			"No text content extracted"},
		{"web blocked", []formPart{field("source_type", "web"), field("source_url", "http://127.0.0.1/")},
			"Destination address is not allowed"},
	}
	ids := map[string]string{}
	for _, c := range cases {
		r := s.upload(key, node, c.parts...)
		if r.Status != 201 {
			t.Fatalf("%s: upload %d %s", c.name, r.Status, r.Raw)
		}
		ids[c.name] = r.json(t)["id"].(string)
	}
	for _, c := range cases {
		m := s.settled(key, ids[c.name])
		if m["state"] != "error" || m["error_message"] != c.msg || m["job_id"] != nil {
			t.Errorf("%s: %v, want error %q", c.name, m, c.msg)
			continue
		}
		job := s.one(`SELECT id::text FROM jobs WHERE materialentry_id = $1`, ids[c.name])
		j := s.call(http.MethodGet, "/api/v1/jobs/"+job, key, nil).json(t)
		if j["status"] != "failed" || j["error_message"] != c.msg || j["attempt"] != 1.0 {
			t.Errorf("%s: job %v", c.name, j)
		}
		if n := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1`, ids[c.name]); n != 0 {
			t.Errorf("%s: %d chunks of a failed material", c.name, n)
		}
	}
	// Still working: a good file after the bad ones.
	r := s.upload(key, node, field("source_type", "text"), file("ok.md", []byte("# Fine\n\nStill working.")))
	if m := s.settled(key, r.json(t)["id"].(string)); m["state"] != "ready" {
		t.Fatalf("after failures: %v", m)
	}
}

// Ensure a temporary failure is retried with backoff up to the attempt
// limit, then fails the material; retrying the material then succeeds.
func TestIngestRetriesThenRetryEndpoint(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	var hits atomic.Int32
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		if !healthy.Load() {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = fmt.Fprint(w, `<html><body><article><h1>Back</h1><p>The page is back online and has a paragraph of readable text for the extractor.</p></article></body></html>`)
	}))
	t.Cleanup(page.Close)
	s, _ := ingestStack(t, serverPort(t, page))
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	id := s.upload(key, node, field("source_type", "web"), field("source_url", page.URL+"/doc")).json(t)["id"].(string)
	m := s.settled(key, id)
	want := "Temporary failure while processing the material (after 3 attempts)"
	if m["state"] != "error" || m["error_message"] != want {
		t.Fatalf("material %v", m)
	}
	if hits.Load() != 3 {
		t.Fatalf("source fetched %d times, want 3 attempts", hits.Load())
	}
	first := s.one(`SELECT id::text FROM jobs WHERE materialentry_id = $1`, id)
	j := s.call(http.MethodGet, "/api/v1/jobs/"+first, key, nil).json(t)
	if j["status"] != "failed" || j["attempt"] != 3.0 || j["max_attempts"] != 3.0 || j["error_message"] != want {
		t.Fatalf("job %v", j)
	}
	// River gave up too (discarded), after backing off between attempts.
	eventually(t, 10*time.Second, "river job discarded", func() bool {
		return s.one(`SELECT state::text FROM river_job WHERE id = $1`, s.queueID(first)) == "discarded"
	})
	healthy.Store(true)
	r := s.call(http.MethodPost, "/api/v1/materials/"+id+"/retry", key, nil)
	if r.Status != 200 || r.json(t)["state"] != "pending" || r.json(t)["job_id"] == first {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	if m := s.settled(key, id); m["state"] != "ready" || m["error_message"] != nil {
		t.Fatalf("after retry: %v", m)
	}
}

// queueID is the River job id of business job id.
func (s *stack) queueID(id string) int64 {
	s.t.Helper()
	var q int64
	if err := s.db.Pool.QueryRow(s.t.Context(), `SELECT queue_job_id FROM jobs WHERE id = $1`, id).Scan(&q); err != nil {
		s.t.Fatal(err)
	}
	return q
}

// Ensure the heavy-work window snoozes an ingest job without consuming an
// attempt, and reports when it will start.
func TestHeavyWindowSnoozeKeepsAttempts(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	id := s.upload(key, node, field("source_type", "text"), file("a.md", []byte("# A\n\nText."))).json(t)["id"].(string)
	now := time.Now().UTC()
	start := now.Add(2 * time.Hour).Truncate(time.Minute)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	w := jobs.Window{Enabled: true, Start: start.Sub(midnight) % (24 * time.Hour), End: (start.Sub(midnight) + time.Hour) % (24 * time.Hour), Loc: time.UTC}
	s.startWorkersWith(&ingest.Processor{TmpDir: t.TempDir()}, func(o *jobs.Options) { o.Window = w })
	job := s.one(`SELECT id::text FROM jobs WHERE materialentry_id = $1`, id)
	var j map[string]any
	eventually(t, 30*time.Second, "job snoozed", func() bool {
		j = s.call(http.MethodGet, "/api/v1/jobs/"+job, key, nil).json(t)
		return j["estimated_at"] != nil
	})
	if j["status"] != "queued" || j["attempt"] != 0.0 || j["started_at"] != nil {
		t.Fatalf("snoozed job %v", j)
	}
	est, err := time.Parse(time.RFC3339, j["estimated_at"].(string))
	if err != nil || !est.Equal(start) {
		t.Fatalf("estimated_at %v, want %s", j["estimated_at"], start)
	}
	eventually(t, 10*time.Second, "river job scheduled at the window", func() bool {
		var st string
		var at time.Time
		err := s.db.Pool.QueryRow(t.Context(), `SELECT state::text, scheduled_at FROM river_job WHERE id = $1`,
			s.queueID(job)).Scan(&st, &at)
		return err == nil && st == "scheduled" && at.Sub(start).Abs() < 5*time.Second
	})
	if m := s.call(http.MethodGet, "/api/v1/materials/"+id, key, nil).json(t); m["state"] != "pending" {
		t.Fatalf("material %v", m)
	}
}

// Ensure the per-kind timeout ends an attempt that hangs (here a source
// that never answers) and the job fails with the timeout after its
// attempts.
func TestIngestTimeout(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	page := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(page.Close)
	t.Cleanup(func() { close(hang) })
	s := mustStack(t)
	fo := fetch.Options{AllowPrivate: true, AllowedPorts: []int{serverPort(t, page)}, Timeout: time.Minute}
	s.startWorkersWith(&ingest.Processor{Web: fetch.New(fo), TmpDir: t.TempDir()}, func(o *jobs.Options) { o.IngestTimeout = time.Second })
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	id := s.upload(key, node, field("source_type", "web"), field("source_url", page.URL+"/slow")).json(t)["id"].(string)
	m := s.settled(key, id)
	if m["state"] != "error" || m["error_message"] != "Job timed out after 1s (after 3 attempts)" {
		t.Fatalf("material %v", m)
	}
}

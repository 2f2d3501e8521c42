package api_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/fetch"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// ingestStack is the API with workers whose processor fetches from
// loopback test servers and transcribes through a local fake.
func ingestStack(t *testing.T, port int) (*stack, *testfiles.Transcription) {
	t.Helper()
	return ingestStackWith(t, fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}, Timeout: 5 * time.Second})
}

// ingestStackWith is ingestStack with the fetchers' options fo.
func ingestStackWith(t *testing.T, fo fetch.Options) (*stack, *testfiles.Transcription) {
	t.Helper()
	s := mustStack(t)
	tr := testfiles.NewTranscription(t, "sk-test")
	s.startWorkersWith(&ingest.Processor{
		// Transcription goes through a real router audited in PostgreSQL.
		Transcriber:    &ingest.Transcriber{LLM: llmtest.Router(t, tr.URL+"/v1", "sk-test", postgres.NewCallStore(s.db))},
		SegmentSeconds: 600,
		Web:            fetch.New(fo),
		Media:          fetch.New(fo),
		TmpDir:         t.TempDir(),
	})
	return s, tr
}

// one returns the single text value a query yields.
func (s *stack) one(sql string, args ...any) string {
	s.t.Helper()
	var v string
	if err := s.db.Pool.QueryRow(s.t.Context(), sql, args...).Scan(&v); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// settled waits until the material leaves pending and returns it.
func (s *stack) settled(key, id string) map[string]any {
	s.t.Helper()
	var m map[string]any
	eventually(s.t, 60*time.Second, "material "+id+" settles", func() bool {
		m = s.call(http.MethodGet, "/api/v1/materials/"+id, key, nil).json(s.t)
		return m["state"] != "pending"
	})
	return m
}

// chunkRows returns the material's chunks as "type|metadata|text" lines.
func (s *stack) chunkRows(id string) []string {
	s.t.Helper()
	rows, err := s.db.Pool.Query(s.t.Context(), `SELECT chunk_type || '|' || metadata::text || '|' || text
		FROM material_chunks WHERE materialentry_id = $1 ORDER BY chunk_index`, id)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, line)
	}
	return out
}

// clipBytes is a 3-second MP4 with sound, made with ffmpeg.
func clipBytes(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testfiles.Clip(t, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serverPort(t *testing.T, srv *httptest.Server) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Ensure each kind of material, uploaded through the API, is ingested with
// no further action: the job completes, the material is ready, and its
// chunks are in the database with their metadata.
func TestIngestEveryKind(t *testing.T) {
	t.Parallel()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, `<html><head><title>Gradient descent</title></head><body>
			<nav><a href="/">Home</a> <a href="/about">About</a></nav>
			<article><h1>Gradient descent</h1>
			<p>Gradient descent is an iterative optimisation algorithm that follows the negative gradient of a loss function downhill, one step at a time.</p>
			<p>The learning rate decides how large each step is; too large a rate overshoots the minimum and too small a rate converges slowly.</p>
			<p>Stochastic variants estimate the gradient from small batches of examples, which makes each step cheap and adds useful noise.</p></article>
			<footer>Copyright footer text</footer></body></html>`)
	}))
	t.Cleanup(page.Close)
	s, tr := ingestStack(t, serverPort(t, page))
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	clip := clipBytes(t)
	cases := []struct {
		name  string
		parts []formPart
		want  []string // substrings of the chunk lines, in order
	}{
		{"markdown", []formPart{field("source_type", "text"), file("notes.md", []byte("# Loss functions\n\nA loss measures the error of a prediction.\n"))},
			[]string{"heading|", "Loss functions", "paragraph|", "A loss measures"}},
		{"plain text", []formPart{field("source_type", "text"), file("notes.txt", []byte("First block.\n\nSecond block.\n"))},
			[]string{"paragraph|", "First block.", "Second block."}},
		{"html file", []formPart{field("source_type", "text"), file("page.html", []byte("<html><body><h2>Optimisers</h2><p>Adam adapts the step size.</p><script>evil()</script></body></html>"))},
			[]string{"heading|", "Optimisers", "Adam adapts"}},
		{"docx", []formPart{field("source_type", "text"), file("lecture.docx", testfiles.Docx(t, "Backpropagation", "The chain rule gives every gradient."))},
			[]string{"heading|", "Backpropagation", "chain rule"}},
		{"pptx", []formPart{field("source_type", "presentation"), file("deck.pptx", testfiles.Pptx(t, "Intro slide", "Second slide"))},
			[]string{`slide_text|{"slide_number": 1}|Intro slide`, `slide_text|{"slide_number": 2}|Second slide`}},
		{"pdf", []formPart{field("source_type", "presentation"), file("deck.pdf", testfiles.PDF("First page text", "", "Third page text"))},
			[]string{`{"slide_number": 1}|First page text`, `{"slide_number": 3}|Third page text`}},
		{"video", []formPart{field("source_type", "video"), file("lecture.mp4", clip)},
			[]string{`transcript|{"model": "whisper-1", "end_sec": 3, "strategy": "transcription", "start_sec": 0}|Welcome to part`, "gradient descent"}},
		{"web", []formPart{field("source_type", "web"), field("source_url", page.URL+"/article")},
			[]string{"web_content|", "iterative optimisation", "learning rate"}},
	}
	ids := map[string]string{}
	for _, c := range cases {
		r := s.upload(key, node, c.parts...)
		if r.Status != 201 || r.json(t)["state"] != "pending" || r.json(t)["job_id"] == nil {
			t.Fatalf("%s: upload %d %s", c.name, r.Status, r.Raw)
		}
		ids[c.name] = r.json(t)["id"].(string)
	}
	for _, c := range cases {
		id := ids[c.name]
		m := s.settled(key, id)
		if m["state"] != "ready" || m["error_message"] != nil || m["job_id"] != nil || m["processed_at"] == nil {
			t.Errorf("%s: material %v", c.name, m)
			continue
		}
		jobID := s.one(`SELECT id::text FROM jobs WHERE materialentry_id = $1`, id)
		j := s.call(http.MethodGet, "/api/v1/jobs/"+jobID, key, nil).json(t)
		if j["status"] != "complete" || j["attempt"] != 1.0 || j["completed_at"] == nil || j["error_message"] != nil {
			t.Errorf("%s: job %v", c.name, j)
		}
		joined := strings.Join(s.chunkRows(id), "\n")
		at := 0
		for _, w := range c.want {
			i := strings.Index(joined[at:], w)
			if i < 0 {
				t.Errorf("%s: chunks lack %q after offset %d:\n%s", c.name, w, at, joined)
				break
			}
			at += i + len(w)
		}
	}
	if strings.Contains(strings.Join(s.chunkRows(ids["web"]), "\n"), "Copyright footer") {
		t.Error("web page footer was ingested")
	}
	if tr.Calls.Load() != 1 {
		t.Errorf("transcription calls = %d, want 1 (one 3 s segment)", tr.Calls.Load())
	}
	// The transcription is audited for the material's tenant and job.
	if n := s.count(`SELECT count(*) FROM external_service_calls c JOIN jobs j ON j.id = c.job_id
		WHERE j.materialentry_id = $1 AND c.tenant_id = j.tenant_id AND c.action = 'transcribe' AND c.success
		AND c.unit_type = 'seconds' AND c.model_id = 'whisper-1'`, ids["video"]); n != 1 {
		t.Errorf("%d audit rows for the video's transcription, want 1", n)
	}
	// Hashes and the processed document are stored.
	if n := s.count(`SELECT count(*) FROM material_entries WHERE processed_hash IS NULL OR processed_raw_hash IS NULL
		OR raw_hash IS NULL OR processed_content IS NULL`); n != 0 {
		t.Errorf("%d materials lack hashes or content", n)
	}
	if n := s.count(`SELECT count(*) FROM material_chunks c JOIN material_entries m ON m.id = c.materialentry_id
		WHERE c.tenant_id <> m.tenant_id OR c.materialnode_id <> m.materialnode_id OR c.content_hash = ''`); n != 0 {
		t.Errorf("%d chunks with wrong owner or hash", n)
	}
}

package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/logging"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// formPart is one multipart part: a field, or a file when filename is set.
type formPart struct {
	name, filename string
	data           []byte
}

func field(name, value string) formPart { return formPart{name: name, data: []byte(value)} }

func file(filename string, data []byte) formPart {
	return formPart{name: "file", filename: filename, data: data}
}

// multipartBody builds a multipart/form-data body with parts in order.
func multipartBody(t testing.TB, parts ...formPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var pw io.Writer
		var err error
		if p.filename != "" {
			pw, err = w.CreateFormFile(p.name, p.filename)
		} else {
			pw, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write(p.data)
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

// upload posts a multipart body to the node's materials.
func (s *stack) upload(key, node string, parts ...formPart) reply {
	s.t.Helper()
	ct, body := multipartBody(s.t, parts...)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/nodes/"+node+"/materials", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-API-Key", key)
	return s.do(req)
}

// objects lists every key in the fake bucket.
func (s *stack) objects() []string {
	s.t.Helper()
	objs, err := s.store.List(context.Background(), "")
	if err != nil {
		s.t.Fatal(err)
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

func (s *stack) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// startWorkers runs the real River workers against the stack's database
// and storage, with a short retry backoff.
func (s *stack) startWorkers() {
	s.t.Helper()
	s.startWorkersWith(&ingest.Processor{TmpDir: s.t.TempDir()})
}

// startWorkersWith runs the workers with processor proc and the
// configuration's default options (jobsconf.Defaults), except for a short
// retry backoff and soft stop; edits change them further.
func (s *stack) startWorkersWith(proc *ingest.Processor, edits ...func(*jobs.Options)) {
	s.t.Helper()
	o := jobsconf.Defaults(proc.TmpDir)
	o.RetryBaseDelay = 200 * time.Millisecond
	o.ShutdownTimeout = 5 * time.Second
	for _, edit := range edits {
		edit(&o)
	}
	js := postgres.NewJobStore(s.db, s.enq)
	r, err := jobs.NewRunner(s.db.SQL, s.db.Pool, jobs.Deps{
		Store: s.store, Ingest: js, Reaper: js, Process: proc,
		Log: logging.New(s.logs, logging.Options{Format: "json", Level: "debug"}),
	}, o)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = r.Stop(context.Background()) })
}

// eventually polls cond for up to limit.
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

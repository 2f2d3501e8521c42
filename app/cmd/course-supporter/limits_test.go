package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// client calls the API of a running `serve` with one key.
type client struct {
	t        *testing.T
	url, key string
}

func (c client) do(method, path, ct string, body []byte) map[string]any {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	req.Header.Set("X-API-Key", c.key)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode >= 300 {
		c.t.Fatalf("%s %s: %d %v %v", method, path, resp.StatusCode, m, err)
	}
	return m
}

// material creates a material under node from form fields and an
// optional file; it returns the material and job ids.
func (c client) material(node string, fields map[string]string, name string, data []byte) (string, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	m := c.do(http.MethodPost, "/api/v1/nodes/"+node+"/materials", mw.FormDataContentType(), body.Bytes())
	return m["id"].(string), m["job_id"].(string)
}

// settled waits until the material leaves pending and returns it.
func (c client) settled(id string, within time.Duration, logs func() string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := c.do(http.MethodGet, "/api/v1/materials/"+id, "", nil)
		if m["state"] != "pending" {
			return m
		}
		if time.Now().After(deadline) {
			var job map[string]any
			if j, ok := m["job_id"].(string); ok {
				job = c.do(http.MethodGet, "/api/v1/jobs/"+j, "", nil)
			}
			c.t.Fatalf("material %s still pending after %v: %v\njob: %v\nlog above debug level:\n%s",
				id, within, m, job, aboveDebug(logs()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// aboveDebug keeps the log lines above debug level: River's debug lines
// would push the job's own events out of CI's truncated output.
func aboveDebug(logs string) string {
	var b strings.Builder
	for line := range strings.Lines(logs) {
		if !strings.Contains(line, `"level":"debug"`) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// failedOnce asserts the material ended in error with msg, its job failed
// after exactly one attempt with the same message.
func (c client) failedOnce(what string, m map[string]any, job, msg string) {
	c.t.Helper()
	if m["state"] != "error" || m["error_message"] != msg {
		c.t.Errorf("%s: material %v, want error %q", what, m, msg)
	}
	j := c.do(http.MethodGet, "/api/v1/jobs/"+job, "", nil)
	if j["status"] != "failed" || j["attempt"] != 1.0 || j["error_message"] != msg {
		c.t.Errorf("%s: job %v, want failed after one attempt", what, j)
	}
}

// procStatusKiB reads a kB field (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatusKiB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

// nestedRowsDocx is the 45 KB .docx of the black-box run: 12 million
// nested table rows (48 MB of XML, under the 50 MB archive budget).
func nestedRowsDocx(t *testing.T) []byte {
	return testfiles.Zip(t,
		"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"word/document.xml", `<document xmlns="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><body><tbl>`+strings.Repeat("<tr>", 12_000_000))
}

// Ensure the two files that took the worker past 1.8 and 2.28 GB (an
// 8 MiB Markdown file of "# a\nb\n\n", 2.4 million chunks; a 45 KB .docx
// of 12 million nested table rows) fail permanently after one attempt,
// while the real worker process's peak RSS stays under 300 MiB.
func TestHostileDocumentsStayWithinMemory(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	vars["WORKER_IN_PROCESS"], vars["WORKER_TMP_DIR"] = "false", t.TempDir()
	vars["WORKER_RETRY_BASE_DELAY"] = "1s"
	a := mustServe(t, vars) // the API alone; the worker is a process of its own
	c := client{t: t, url: a.URL, key: mustAPIKey(t, vars)}
	node := c.do(http.MethodPost, "/api/v1/nodes", "application/json", []byte(`{"title":"Course"}`))["id"].(string)

	docx := nestedRowsDocx(t)
	t.Logf("docx: %d bytes", len(docx))
	md, mdJob := c.material(node, map[string]string{"source_type": "text"}, "notes.md",
		[]byte(strings.Repeat("# a\nb\n\n", (8<<20)/7)))
	dx, dxJob := c.material(node, map[string]string{"source_type": "text"}, "rows.docx", docx)

	w := startWorker(t, bin, vars)
	pid := w.cmd.Process.Pid
	// Past the bound the worker is stopped at once, so that a regression
	// fails this test instead of taking the machine's memory.
	var killed atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if rss := procStatusKiB(pid, "VmRSS"); rss > 300<<10 {
				killed.Store(rss)
				_ = w.cmd.Process.Signal(syscall.SIGKILL)
				return
			}
		}
	}()
	started := time.Now()
	mdMat := c.settled(md, 2*time.Minute, w.logs.String)
	dxMat := c.settled(dx, 2*time.Minute, w.logs.String)
	held := time.Since(started)
	hwm := procStatusKiB(pid, "VmHWM")
	if rss := killed.Load(); rss > 0 {
		t.Fatalf("the worker reached %d MiB of RSS and was stopped", rss>>10)
	}
	t.Logf("worker peak RSS (VmHWM) %d MiB; both materials settled in %v", hwm>>10, held.Round(time.Millisecond))
	if hwm <= 0 || hwm > 300<<10 {
		t.Errorf("worker VmHWM = %d KiB, want under 300 MiB", hwm)
	}
	c.failedOnce("markdown", mdMat, mdJob, "Document too large: more than 20000 chunks")
	c.failedOnce("docx", dxMat, dxJob, "Document too deeply nested: more than 256 levels")
}

// Ensure a media or slides URL whose server trickles (one byte every
// 200 ms: never quiet long enough for the stall timeout) fails permanently
// after one attempt once it falls below FETCH_MIN_BYTES_PER_SEC, instead
// of holding the ingest slot for the job timeout, three times over.
func TestTricklingURLFailsPermanently(t *testing.T) {
	t.Parallel()
	var open atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open.Add(1)
		defer open.Add(-1)
		ct := "video/mp4"
		if strings.HasSuffix(r.URL.Path, ".pdf") {
			ct = "application/pdf"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", "1000000")
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	for k, v := range map[string]string{
		"FETCH_ALLOW_PRIVATE_NETWORKS": "true", "FETCH_ALLOWED_PORTS": port,
		"FETCH_TIMEOUT": "1s", "FETCH_MIN_BYTES_PER_SEC": "1000",
		"WORKER_JOB_TIMEOUT": "300s", "WORKER_RETRY_BASE_DELAY": "1s", "WORKER_TMP_DIR": t.TempDir(),
		"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL + "/v1",
	} {
		vars[k] = v
	}
	a := mustServe(t, vars) // with the workers in process
	c := client{t: t, url: a.URL, key: mustAPIKey(t, vars)}
	node := c.do(http.MethodPost, "/api/v1/nodes", "application/json", []byte(`{"title":"Course"}`))["id"].(string)
	video, videoJob := c.material(node, map[string]string{"source_type": "video", "source_url": srv.URL + "/lecture.mp4"}, "", nil)
	slides, slidesJob := c.material(node, map[string]string{"source_type": "presentation", "source_url": srv.URL + "/deck.pdf"}, "", nil)

	started := time.Now()
	msg := "Download too slow: below 1000 bytes per second"
	c.failedOnce("video URL", c.settled(video, 60*time.Second, a.Logs.String), videoJob, msg)
	c.failedOnce("slides URL", c.settled(slides, 60*time.Second, a.Logs.String), slidesJob, msg)
	t.Logf("both trickling URLs failed after %v", time.Since(started).Round(time.Millisecond))
	for deadline := time.Now().Add(10 * time.Second); open.Load() > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d trickling downloads still connected after the materials failed", open.Load())
		}
	}
}

// Ensure VIDEO_DOWNLOADER_CMD is stopped while it writes past the size
// limit (here a child process writing 25 MiB against a 1 MiB limit), and
// the material fails permanently after one attempt.
func TestDownloaderPastSizeLimitFailsPermanently(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	done := filepath.Join(dir, "finished")
	script := filepath.Join(dir, "dl.sh")
	body := `#!/bin/sh
eval out=\${$#}
( i=0; while [ $i -lt 400 ]; do head -c 65536 /dev/zero >> "$out"; i=$((i+1)); sleep 0.01; done; touch ` + done + ` ) &
wait
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	for k, v := range map[string]string{
		"VIDEO_DOWNLOADER_CMD": script, "UPLOAD_MAX_BYTES": strconv.Itoa(1 << 20),
		"WORKER_RETRY_BASE_DELAY": "1s", "WORKER_TMP_DIR": t.TempDir(),
		"OPENAI_API_KEY": "sk-test",
	} {
		vars[k] = v
	}
	a := mustServe(t, vars)
	c := client{t: t, url: a.URL, key: mustAPIKey(t, vars)}
	node := c.do(http.MethodPost, "/api/v1/nodes", "application/json", []byte(`{"title":"Course"}`))["id"].(string)
	id, job := c.material(node, map[string]string{"source_type": "video", "source_url": "https://www.youtube.com/watch?v=abc"}, "", nil)
	c.failedOnce("downloader", c.settled(id, 60*time.Second, a.Logs.String), job, "Downloaded media exceeds the upload size limit")
	time.Sleep(5 * time.Second) // what a surviving writer needs to finish
	if _, err := os.Stat(done); err == nil {
		t.Fatal("the downloader's child wrote all 25 MiB: it was neither stopped at the limit nor killed with its group")
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
	"github.com/course-supporter/course-supporter/app/internal/testlog"
)

// Ensure nothing stays active after a crash: a worker process killed with
// SIGKILL in the middle of an ingest job (here: while the transcription
// request is in flight) leaves the job to be rescued, and after a new
// worker starts the job is retried and completes.
func TestWorkerKilledMidJobIsRetried(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	endpoint, access, secret := versitygw(t, "materials")
	var calls atomic.Int32
	inFlight, release := make(chan struct{}, 1), make(chan struct{})
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			inFlight <- struct{}{}
			select { // the first attempt hangs until its worker dies
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json") // as the real API answers
		_ = json.NewEncoder(w).Encode(map[string]any{"segments": []map[string]any{
			{"start": 0.0, "end": 3.0, "text": "Recovered after the crash."}}})
	}))
	t.Cleanup(fake.Close)
	t.Cleanup(func() { close(release) })

	vars := testEnv(testdb.New(t), &s3test.Server{URL: endpoint, Bucket: "materials"})
	for k, v := range map[string]string{
		"S3_ACCESS_KEY": access, "S3_SECRET_KEY": secret,
		"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.URL + "/v1",
		"WORKER_JOB_TIMEOUT": "20s", "WORKER_STEP_TIMEOUT": "20s", "WORKER_RESCUE_GRACE": "1s", "WORKER_RETRY_BASE_DELAY": "1s",
		"WORKER_TMP_DIR": t.TempDir(), "WORKER_SHUTDOWN_TIMEOUT": "2s", "WORKER_IN_PROCESS": "false",
	} {
		vars[k] = v
	}
	a := mustServe(t, vars) // the API alone
	key := mustAPIKey(t, vars)

	api := func(method, path, ct string, body []byte) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, a.URL+path, bytes.NewReader(body))
		req.Header.Set("X-API-Key", key)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v %v", method, path, resp.StatusCode, m, err)
		}
		return m
	}
	node := api(http.MethodPost, "/api/v1/nodes", "application/json", []byte(`{"title":"Course"}`))["id"].(string)
	clip, err := os.ReadFile(testfiles.Clip(t, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("source_type", "video")
	fw, _ := mw.CreateFormFile("file", "lecture.mp4")
	_, _ = fw.Write(clip)
	_ = mw.Close()
	m := api(http.MethodPost, "/api/v1/nodes/"+node+"/materials", mw.FormDataContentType(), body.Bytes())
	material, job := m["id"].(string), m["job_id"].(string)

	first := startWorker(t, bin, vars)
	select {
	case <-inFlight:
	case <-time.After(60 * time.Second):
		t.Fatalf("the first attempt never reached transcription\n%s", first.logs.String())
	}
	if j := api(http.MethodGet, "/api/v1/jobs/"+job, "", nil); j["status"] != "active" || j["attempt"] != 1.0 {
		t.Fatalf("before the kill: %v", j)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	second := startWorker(t, bin, vars)
	deadline := time.Now().Add(150 * time.Second)
	for {
		mat := api(http.MethodGet, "/api/v1/materials/"+material, "", nil)
		if mat["state"] == "ready" {
			break
		}
		if mat["state"] != "pending" || time.Now().After(deadline) {
			t.Fatalf("material %v\nsecond worker:\n%s", mat, second.logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	j := api(http.MethodGet, "/api/v1/jobs/"+job, "", nil)
	if j["status"] != "complete" || j["attempt"] != 2.0 {
		t.Fatalf("after recovery: %v", j)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("transcription calls = %d, want 2 (one per attempt)", n)
	}
}

// worker is a `course-supporter worker` child process.
type worker struct {
	cmd  *exec.Cmd
	logs *testlog.Buffer
}

func startWorker(t *testing.T, bin string, vars map[string]string) *worker {
	t.Helper()
	w := &worker{logs: &testlog.Buffer{}}
	w.cmd = exec.Command(bin, "worker")
	w.cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		if k != "METRICS_ADDR" {
			w.cmd.Env = append(w.cmd.Env, fmt.Sprintf("%s=%s", k, v))
		}
	}
	w.cmd.Env = append(w.cmd.Env, "METRICS_ADDR=")
	w.cmd.Stdout, w.cmd.Stderr = w.logs, w.logs
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if w.cmd.ProcessState == nil {
			_ = w.cmd.Process.Signal(syscall.SIGTERM)
			_ = w.cmd.Wait()
		}
	})
	return w
}

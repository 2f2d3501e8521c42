package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

// crashRegistry points course_structuring at the fake OpenAI server only.
const crashRegistry = `
providers:
  openai:
    kind: openai_compatible
    base_url: ${OPENAI_BASE_URL}
    api_key_env: OPENAI_API_KEY
models:
  fake-chat:
    provider: openai
    provider_model: fake-chat
    capabilities: [structured_output]
    structured_output: json_schema
    cost: {unit: tokens, in_per_1k: 0.001, out_per_1k: 0.002}
actions:
  course_structuring: {requires: [structured_output], chains: {default: [fake-chat]}}
`

// Ensure a worker killed with SIGKILL while a generation step waits for
// the model leaves the step to be rescued: a new worker retries it, it
// completes on its second attempt, and exactly one snapshot exists.
func TestWorkerKilledMidStepIsRetried(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	chat := llmtest.NewChat(t)
	var calls atomic.Int32
	inFlight, release := make(chan struct{}, 1), make(chan struct{})
	chat.SetAnswer(func(r llmtest.ChatRequest) llmtest.Reply {
		if calls.Add(1) == 1 {
			inFlight <- struct{}{}
			<-release // the first attempt hangs until the test ends
		}
		return llmtest.Reply{Status: http.StatusOK, Content: llmtest.StructureFor(r.Node)}
	})
	t.Cleanup(func() { close(release) })
	registry := filepath.Join(t.TempDir(), "llm.yaml")
	if err := os.WriteFile(registry, []byte(crashRegistry), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	for k, v := range map[string]string{
		"LLM_REGISTRY_PATH": registry, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": chat.URL + "/v1",
		"WORKER_JOB_TIMEOUT": "20s", "WORKER_STEP_TIMEOUT": "20s", "WORKER_RESCUE_GRACE": "1s",
		"WORKER_RETRY_BASE_DELAY": "1s", "WORKER_TMP_DIR": t.TempDir(), "WORKER_IN_PROCESS": "false",
	} {
		vars[k] = v
	}
	a := mustServe(t, vars)
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
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("source_type", "text")
	fw, _ := mw.CreateFormFile("file", "notes.md")
	_, _ = fw.Write([]byte("# Notes\n\nSomething to learn.\n"))
	_ = mw.Close()
	material := api(http.MethodPost, "/api/v1/nodes/"+node+"/materials", mw.FormDataContentType(), body.Bytes())["id"].(string)

	first := startWorker(t, bin, vars)
	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitFor("the material", 60*time.Second, func() bool {
		return api(http.MethodGet, "/api/v1/materials/"+material, "", nil)["state"] == "ready"
	})
	plan := api(http.MethodPost, "/api/v1/nodes/"+node+"/generate", "", nil)
	job := plan["generation_jobs"].([]any)[0].(map[string]any)["id"].(string)
	select {
	case <-inFlight:
	case <-time.After(60 * time.Second):
		t.Fatalf("the step never called the model\n%s", first.logs.String())
	}
	if j := api(http.MethodGet, "/api/v1/jobs/"+job, "", nil); j["status"] != "active" || j["attempt"] != 1.0 {
		t.Fatalf("before the kill: %v", j)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	second := startWorker(t, bin, vars)
	var j map[string]any
	deadline := time.Now().Add(150 * time.Second)
	for {
		j = api(http.MethodGet, "/api/v1/jobs/"+job, "", nil)
		if j["status"] != "queued" && j["status"] != "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %v\nsecond worker:\n%s", j, second.logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if j["status"] != "complete" || j["attempt"] != 2.0 || j["snapshot_id"] == nil {
		t.Fatalf("after recovery: %v\n%s", j, second.logs.String())
	}
	if h := api(http.MethodGet, "/api/v1/nodes/"+node+"/structure/history", "", nil); h["total"] != 1.0 {
		t.Errorf("snapshots after the retry: %v", h)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("model calls = %d, want 2 (one per attempt)", n)
	}
}

package api_test

import (
	"net/http"
	"sync"
	"testing"
)

// Ensure the generate endpoint's statuses over HTTP: 422 for a bad mode
// and for a subtree without materials, exactly one 202 out of concurrent
// requests on one tree (the others 409 with the design's reason), and 409
// for a refine inside the scope of the accepted plan.
func TestGenerateHTTPStatuses(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("t")
	root := s.mustCreate(key, "", "Course")
	a := s.mustCreate(key, root, "A")
	if r := s.call(http.MethodPost, "/api/v1/nodes/"+root+"/generate", key, map[string]any{"mode": "creative"}); r.Status != 422 {
		t.Errorf("bad mode: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodPost, "/api/v1/nodes/"+root+"/generate", key, nil); r.Status != 422 || r.detail(t) != "No materials found in the target subtree." {
		t.Errorf("no materials: %d %s", r.Status, r.Raw)
	}
	if r := s.upload(key, a, field("source_type", "text"), file("a.md", []byte("# A\n\ntext\n"))); r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Raw)
	}
	var wg sync.WaitGroup
	replies := make([]reply, 6)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = s.call(http.MethodPost, "/api/v1/nodes/"+root+"/generate", key, nil)
		}()
	}
	wg.Wait()
	accepted := 0
	for _, r := range replies {
		switch {
		case r.Status == http.StatusAccepted:
			accepted++
			p := r.json(t)
			// The material is pending (no worker runs): its ingest job is a dependency.
			if len(p["ingestion_jobs"].([]any)) != 1 || len(p["generation_jobs"].([]any)) != 2 || p["estimated_llm_calls"] != 3.0 {
				t.Errorf("plan %s", r.Raw)
			}
		case r.Status != http.StatusConflict || r.detail(t) != "Generation conflict: both target the entire tree":
			t.Errorf("concurrent request: %d %s", r.Status, r.Raw)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d of %d concurrent requests accepted, want 1", accepted, len(replies))
	}
	if r := s.call(http.MethodPost, "/api/v1/nodes/"+a+"/refine", key, nil); r.Status != http.StatusConflict || r.detail(t) != "Generation conflict: active job covers entire tree" {
		t.Errorf("refine under a whole-tree plan: %d %s", r.Status, r.Raw)
	}
}

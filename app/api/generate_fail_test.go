package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// jobsByNode indexes settled jobs by (type, node).
func jobsByNode(js []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, j := range js {
		out[j["job_type"].(string)+" "+j["materialnode_id"].(string)] = j
	}
	return out
}

// Ensure a model that rejects a step permanently fails that job at once
// and every dependent with "Dependency <id> failed" naming its immediate
// failed dependency, while independent branches complete.
func TestGeneratePermanentFailurePropagates(t *testing.T) {
	t.Parallel()
	g := newGenStack(t, jobs.GenerationOptions{})
	c := g.course3()
	g.chat.SetAnswer(func(r llmtest.ChatRequest) llmtest.Reply {
		if r.Node == "Lesson B1" {
			return llmtest.Reply{Status: http.StatusBadRequest}
		}
		return llmtest.Reply{Status: http.StatusOK, Content: llmtest.StructureFor(r.Node)}
	})
	js := jobsByNode(g.settle(g.plan(c.root, "generate", nil)))
	b1, b, root := js["generate "+c.b1], js["generate "+c.b], js["generate "+c.root]
	if b1["status"] != "failed" || b1["error_message"] != "Structuring was rejected by every configured model" || b1["attempt"] != 1.0 {
		t.Errorf("failed step: %v", b1)
	}
	for _, tc := range []struct{ job, dep map[string]any }{{b, b1}, {root, b}, {js["reconcile "+c.root], root},
		{js["reconcile "+c.a], js["reconcile "+c.root]}} {
		if tc.job["status"] != "failed" || tc.job["error_message"] != "Dependency "+tc.dep["id"].(string)+" failed" {
			t.Errorf("dependent %v", tc.job)
		}
	}
	for _, n := range []string{c.a1, c.a2, c.a} {
		if js["generate "+n]["status"] != "complete" {
			t.Errorf("independent branch: %v", js["generate "+n])
		}
	}
	// Both models were tried, once each (permanent 400s), and audited.
	if n := g.count(`SELECT count(*) FROM external_service_calls WHERE job_id = $1 AND NOT success`, b1["id"]); n != 2 {
		t.Errorf("%d failed audit rows for the failed step, want 2", n)
	}
}

// Ensure a malformed reply is a retryable failure of that attempt and the
// chain moves on to the next model, whose reply is stored.
func TestGenerateMalformedReplyMovesToNextModel(t *testing.T) {
	t.Parallel()
	g := newGenStack(t, jobs.GenerationOptions{})
	root := g.child("", "Solo")
	g.markdown(root, "solo.md", "# Solo\n\nOne node course.\n")
	g.chat.SetAnswer(func(r llmtest.ChatRequest) llmtest.Reply {
		if r.Model == "model-a" {
			// Valid JSON, but core and mentioned concepts overlap.
			return llmtest.Reply{Status: http.StatusOK, Content: `{"title":"x","summary":"s","modules":[{"title":"m"}],` +
				`"core_concepts":["Loops"],"mentioned_concepts":[" loops "]}`}
		}
		return llmtest.Reply{Status: http.StatusOK, Content: llmtest.StructureFor(r.Node)}
	})
	js := g.settle(g.plan(root, "generate", nil))
	if js[0]["status"] != "complete" {
		t.Fatalf("job %v", js[0])
	}
	snap := g.call(http.MethodGet, "/api/v1/nodes/"+root+"/structure", g.key, nil).json(t)
	if call := snap["service_call"].(map[string]any); call["model_id"] != "model-b" || snap["summary"] != "Summary of Solo" {
		t.Errorf("snapshot: %v", snap)
	}
	if got := g.one(`SELECT string_agg(model_id || ':' || success, ',' ORDER BY created_at) FROM external_service_calls`); got != "model-a:false,model-b:true" {
		t.Errorf("audit %s", got)
	}
}

// Ensure deleting a node while its subtree generates cancels its jobs
// ("Node deleted"), fails the dependents outside it, and stores nothing
// for the running step.
func TestGenerateNodeDeletedMidGeneration(t *testing.T) {
	t.Parallel()
	g := newGenStack(t, jobs.GenerationOptions{})
	c := g.course3()
	release := make(chan struct{})
	g.chat.SetAnswer(func(r llmtest.ChatRequest) llmtest.Reply {
		if r.Node == "Lesson A1" || r.Node == "Lesson A2" {
			<-release
		}
		return llmtest.Reply{Status: http.StatusOK, Content: llmtest.StructureFor(r.Node)}
	})
	plan := g.plan(c.root, "generate", nil)
	eventually(t, 30*time.Second, "a step of Module A runs", func() bool {
		_, r := requestFor(g.chat.Requests(), "Lesson A1", "generate")
		return r.Node != ""
	})
	if r := g.call(http.MethodDelete, "/api/v1/nodes/"+c.a, g.key, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	close(release)
	var a1, b1, root map[string]any
	for _, j := range planJobs(plan) {
		id := j["id"].(string)
		var cur map[string]any
		eventually(t, 30*time.Second, "job "+id+" is final", func() bool {
			cur = g.call(http.MethodGet, "/api/v1/jobs/"+id, g.key, nil).json(t)
			return cur["status"] != "queued" && cur["status"] != "active"
		})
		switch j["materialnode_id"] {
		case c.a1:
			a1 = cur
		case c.b1:
			b1 = cur
		case c.root:
			if j["job_type"] == "generate" {
				root = cur
			}
		}
	}
	if a1["status"] != "cancelled" || a1["error_message"] != "Node deleted" || a1["snapshot_id"] != nil {
		t.Errorf("running step of the deleted subtree: %v", a1)
	}
	if root["status"] != "failed" || b1["status"] != "complete" {
		t.Errorf("root %v, B1 %v", root, b1)
	}
	time.Sleep(300 * time.Millisecond) // the released workers finish their attempts
	if n := g.count(`SELECT count(*) FROM structure_snapshots s JOIN jobs j ON j.id = s.job_id WHERE j.status <> 'complete'`); n != 0 {
		t.Errorf("%d snapshots stored by cancelled jobs", n)
	}
}

// Ensure a subtree whose chunks exceed LLM_CONTEXT_TOKEN_BUDGET sends a
// context within the budget that keeps every heading chunk.
func TestGenerateContextWithinTokenBudget(t *testing.T) {
	t.Parallel()
	const budget = 1200
	g := newGenStack(t, jobs.GenerationOptions{Budget: budget})
	root := g.child("", "Big")
	var md strings.Builder
	md.WriteString("# Big course\n\n")
	for i := range 12 {
		fmt.Fprintf(&md, "## Section %d\n\n%s\n\n", i, strings.Repeat(fmt.Sprintf("Paragraph %d talks about topic%d. ", i, i), 60))
	}
	g.markdown(root, "big.md", md.String())
	if js := g.settle(g.plan(root, "generate", nil)); js[0]["status"] != "complete" {
		t.Fatalf("job %v", js[0])
	}
	user := g.chat.Requests()[0].User
	_, rest, _ := strings.Cut(user, "Course context (JSON; documents with their chunks, in order):\n")
	ctxJSON, _, _ := strings.Cut(rest, "\n\nBuild the CourseStructure")
	var cc struct {
		Documents []struct {
			Chunks []struct {
				ChunkType string `json:"chunk_type"`
				Text      string `json:"text"`
			} `json:"chunks"`
		} `json:"documents"`
	}
	if err := json.Unmarshal([]byte(ctxJSON), &cc); err != nil || len(cc.Documents) != 1 {
		t.Fatalf("context %v: %.300s", err, ctxJSON)
	}
	tokens, headings := 0, 0
	for _, c := range cc.Documents[0].Chunks {
		tokens += (utf8.RuneCountInString(c.Text) + 3) / 4
		if c.ChunkType == "heading" {
			headings++
		}
	}
	if tokens > budget || headings != 13 {
		t.Errorf("context has %d tokens (budget %d) and %d of 13 headings", tokens, budget, headings)
	}
	if total := g.count(`SELECT sum(token_count) FROM material_chunks`); total <= budget {
		t.Fatalf("the material (%d tokens) does not exceed the budget", total)
	}
	if !strings.Contains(g.logs.String(), `"event":"context_truncated"`) {
		t.Error("no context_truncated log line")
	}
}

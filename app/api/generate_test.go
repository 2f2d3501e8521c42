package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// course3 is a 3-level course: Course → Module A (Lesson A1, Lesson A2),
// Module B (Lesson B1), with a Markdown file on every lesson.
type course3 struct{ root, a, b, a1, a2, b1 string }

func (g *genStack) course3() course3 {
	c := course3{root: g.child("", "Course")}
	c.a, c.b = g.child(c.root, "Module A"), g.child(c.root, "Module B")
	c.a1, c.a2, c.b1 = g.child(c.a, "Lesson A1"), g.child(c.a, "Lesson A2"), g.child(c.b, "Lesson B1")
	g.markdown(c.a1, "a1.md", "# Vectors\n\nA vector has a direction and a length.\n")
	g.markdown(c.a2, "a2.md", "# Matrices\n\nA matrix is a grid of numbers.\n")
	g.markdown(c.b1, "b1.md", "# Limits\n\nA limit describes where a function goes.\n")
	return c
}

// Ensure a 3-level course generates end to end: every generate runs after
// its children and every reconcile after its parent's, each request has
// the step's prompt and context, snapshots and structure nodes are
// stored; a second generate with nothing changed makes no model call;
// changing one leaf re-runs only its chain of ancestors; refine makes its
// own call.
func TestGenerateEndToEnd(t *testing.T) {
	t.Parallel()
	g := newGenStack(t, jobs.GenerationOptions{})
	c := g.course3()
	plan := g.plan(c.root, "generate", nil)
	if n := plan["estimated_llm_calls"]; n != 9.0 {
		t.Fatalf("estimated_llm_calls %v, want 9: %v", n, plan)
	}
	if len(plan["ingestion_jobs"].([]any)) != 0 || len(plan["mapping_warnings"].([]any)) != 0 {
		t.Errorf("plan: %v", plan)
	}
	done := g.settle(plan)
	for _, j := range done {
		if j["status"] != "complete" || j["snapshot_id"] == nil {
			t.Fatalf("job %v", j)
		}
	}
	reqs := g.chat.Requests()
	if len(reqs) != 9 {
		t.Fatalf("%d model calls, want 9 (6 generate + 3 reconcile)", len(reqs))
	}
	kids := map[string][]string{"Course": {"Module A", "Module B"}, "Module A": {"Lesson A1", "Lesson A2"}, "Module B": {"Lesson B1"}}
	for parent, children := range kids {
		pi, pr := requestFor(reqs, parent, "generate")
		for _, ch := range children {
			ci, _ := requestFor(reqs, ch, "generate")
			if ci < 0 || pi < ci {
				t.Errorf("generate of %s (call %d) did not wait for %s (call %d)", parent, pi, ch, ci)
			}
			if !strings.Contains(pr.User, "Summary of "+ch) {
				t.Errorf("generate of %s lacks the summary of %s", parent, ch)
			}
		}
		if !strings.Contains(pr.System, "You are a course architect") {
			t.Errorf("generate of %s: system prompt %q", parent, pr.System[:40])
		}
	}
	for leaf, text := range map[string]string{"Lesson A1": "A vector has a direction", "Lesson B1": "A limit describes"} {
		if _, r := requestFor(reqs, leaf, "generate"); !strings.Contains(r.User, text) {
			t.Errorf("generate of %s lacks its material", leaf)
		}
	}
	ri, rr := requestFor(reqs, "Course", "reconcile")
	gi, _ := requestFor(reqs, "Course", "generate")
	if ri < gi {
		t.Errorf("reconcile of the root (%d) ran before its generate (%d)", ri, gi)
	}
	if !strings.Contains(rr.User, "Outline of Course") || !strings.Contains(rr.User, "(none: this is a root node)") {
		t.Errorf("root reconcile lacks its current structure: %s", rr.User[:200])
	}
	for _, mod := range []string{"Module A", "Module B"} {
		mi, mr := requestFor(reqs, mod, "reconcile")
		if mi < ri {
			t.Errorf("reconcile of %s ran before its parent's", mod)
		}
		other := map[string]string{"Module A": "Module B", "Module B": "Module A"}[mod]
		for _, want := range []string{"Summary of Course", "Summary of " + other, "Outline of " + mod} {
			if !strings.Contains(mr.User, want) {
				t.Errorf("reconcile of %s lacks %q", mod, want)
			}
		}
	}
	if n := g.count(`SELECT count(*) FROM structure_snapshots`); n != 9 {
		t.Errorf("%d snapshots, want 9", n)
	}
	if n := g.count(`SELECT count(*) FROM structure_nodes`); n != 36 {
		t.Errorf("%d structure nodes, want 36", n)
	}
	// The latest structure of the root is its reconcile snapshot.
	st := g.call(http.MethodGet, "/api/v1/nodes/"+c.root+"/structure", g.key, nil)
	if st.Status != 200 {
		t.Fatalf("structure: %d %s", st.Status, st.Raw)
	}
	var snap struct {
		ID, StepType, Summary, Mode string
		StepTypeJ                   string `json:"step_type"`
		Corrections                 []map[string]any
		ServiceCall                 map[string]any   `json:"service_call"`
		StructureTree               []map[string]any `json:"structure_tree"`
		Structure                   map[string]any
	}
	mustJSON(t, st.Raw, &snap)
	if snap.StepTypeJ != "reconcile" || snap.Summary != "Summary of Course" || len(snap.Corrections) != 1 ||
		snap.ServiceCall["model_id"] != "model-a" || snap.ServiceCall["prompt_ref"] != "v1_reconcile" ||
		snap.Structure["title"] != "Outline of Course" {
		t.Errorf("root structure: %s", st.Raw)
	}
	mod := snap.StructureTree[0]
	lesson := mod["children"].([]any)[0].(map[string]any)
	concept := lesson["children"].([]any)[0].(map[string]any)
	exercise := lesson["children"].([]any)[1].(map[string]any)
	for what, ok := range map[string]bool{
		"module":   mod["node_type"] == "module" && mod["difficulty"] == "easy" && jsonEq(mod["expected_skills"], `[{"summary":"skill","details":""}]`),
		"lesson":   jsonEq(lesson["timecodes"], `[{"start":"00:10","end":"01:00"}]`) && jsonEq(lesson["slide_references"], `[{"start":1,"end":2}]`),
		"concept":  concept["node_type"] == "concept" && concept["description"] == "definition" && jsonEq(concept["timecodes"], `[{"timecode":"00:20"}]`) && jsonEq(concept["slide_references"], `[{"slide":1}]`),
		"exercise": exercise["title"] == "Exercise 1" && exercise["order"] == 1.0 && exercise["difficulty"] == "medium" && exercise["success_criteria"] == "correct",
	} {
		if !ok {
			t.Errorf("flattened %s is wrong: %s", what, st.Raw)
		}
	}
	// GET /jobs shows the snapshot and the dependencies.
	rootGen := plan["generation_jobs"].([]any)[5].(map[string]any)
	j := g.call(http.MethodGet, "/api/v1/jobs/"+rootGen["id"].(string), g.key, nil).json(t)
	if j["snapshot_id"] == nil || len(j["depends_on"].([]any)) != 2 || j["materialnode_id"] != c.root {
		t.Errorf("root generate job: %v", j)
	}
	hist := g.call(http.MethodGet, "/api/v1/nodes/"+c.root+"/structure/history?limit=1", g.key, nil).json(t)
	if hist["total"] != 2.0 || len(hist["items"].([]any)) != 1 {
		t.Errorf("history: %v", hist)
	}
	byMode := g.call(http.MethodGet, "/api/v1/nodes/"+c.root+"/structure?mode=guided", g.key, nil)
	if byMode.Status != 404 || byMode.detail(t) != "No structure snapshot found." {
		t.Errorf("guided structure: %d %s", byMode.Status, byMode.Raw)
	}

	// Nothing changed: every job reuses its snapshot, no model call.
	g.chat.Reset()
	again := g.settle(g.plan(c.root, "generate", map[string]any{"mode": "free"}))
	if n := len(g.chat.Requests()); n != 0 {
		t.Fatalf("a second generate with nothing changed made %d model calls", n)
	}
	for i, j := range again {
		if j["status"] != "complete" || j["snapshot_id"] != done[i]["snapshot_id"] {
			t.Errorf("rerun job %d: %v, first run snapshot %v", i, j, done[i]["snapshot_id"])
		}
	}

	// One leaf changes: only it and its ancestors call the model.
	g.markdown(c.a2, "a2b.md", "# Determinants\n\nA determinant is a number.\n")
	g.chat.Reset()
	g.settle(g.plan(c.root, "generate", nil))
	var got []string
	for _, r := range g.chat.Requests() {
		got = append(got, stepOf(r)+" "+r.Node)
	}
	want := "generate Lesson A2,generate Module A,generate Course,reconcile Course,reconcile Module A"
	if strings.Join(got, ",") != want {
		t.Errorf("after changing Lesson A2 the calls were %v, want %s", got, want)
	}

	// Refine makes its own call although the node has a generate snapshot.
	g.chat.Reset()
	rp := g.plan(c.a1, "refine", nil)
	if rp["estimated_llm_calls"] != 3.0 || len(rp["reconciliation_jobs"].([]any)) != 2 {
		t.Errorf("refine plan: %v", rp)
	}
	for _, j := range g.settle(rp) {
		if j["status"] != "complete" {
			t.Errorf("refine plan job %v", j)
		}
	}
	if _, r := requestFor(g.chat.Requests(), "Lesson A1", "refine"); !strings.Contains(r.User, "Outline of Lesson A1") {
		t.Errorf("refine made no call with the current structure: %v", g.chat.Requests())
	}
}

func jsonEq(v any, want string) bool {
	b, _ := json.Marshal(v)
	var a, w any
	_ = json.Unmarshal(b, &a)
	_ = json.Unmarshal([]byte(want), &w)
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(w)
	return string(x) == string(y)
}

var _ = llmtest.StructureFor

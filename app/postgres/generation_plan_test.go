package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

func ids(reps []*course.JobReport) []uuid.UUID {
	out := make([]uuid.UUID, len(reps))
	for i, r := range reps {
		out[i] = r.ID
	}
	return out
}

func same(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Ensure the plan of a 3-level tree with raw, pending, ready and errored
// materials has exactly the jobs, dependencies and order the design
// describes, and that only dependency-free jobs get a queue record.
func TestGeneratePlanShape(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	root := f.node(uuid.Nil, "R", nil)
	a := f.node(root, "A", nil)
	b := f.node(root, "B", nil)
	c := f.node(root, "C", nil)
	a1 := f.node(a, "A1", nil)
	a2 := f.node(a, "A2", nil)
	b1 := f.node(b, "B1", nil)
	f.material(root, course.StateReady, "r")
	ready := f.material(a1, course.StateReady, "a1")
	pending := f.material(a2, course.StatePending, "")
	f.material(b, course.StateError, "")
	raw := f.material(b1, course.StateRaw, "")
	f.material(c, course.StateError, "")
	f.material(c, course.StateIntegrityBroken, "")
	warn := f.mapping(a1, ready, ready, 1, 0, nil, "validation_failed")
	f.mapping(a1, ready, ready, 2, 0, nil, "validated")
	pendingJob := f.one(`SELECT job_id FROM material_entries WHERE id = $1`, pending)

	plan, err := f.gen.Generate(f.ctx, f.tenant, root, course.ModeFree)
	if err != nil {
		t.Fatal(err)
	}
	var newIngest uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT job_id FROM material_entries WHERE id = $1`, raw).Scan(&newIngest); err != nil {
		t.Fatal("the raw material got no ingest job:", err)
	}
	gens, recs := plan.Generation, plan.Reconciliation
	nodeOf := func(r *course.JobReport) uuid.UUID { return *r.NodeID }
	wantGen := []uuid.UUID{a1, a2, a, b1, b, root} // post-order; C has nothing usable
	if len(gens) != len(wantGen) {
		t.Fatalf("%d generate jobs, want %d", len(gens), len(wantGen))
	}
	genOf := map[uuid.UUID]uuid.UUID{}
	for i, g := range gens {
		if nodeOf(g) != wantGen[i] || g.Type != course.JobGenerate || g.Status != course.JobQueued {
			t.Errorf("generate %d: node %s type %s status %s, want node %s", i, nodeOf(g), g.Type, g.Status, wantGen[i])
		}
		genOf[nodeOf(g)] = g.ID
	}
	wantDeps := map[uuid.UUID][]uuid.UUID{
		a1: {}, a2: {pendingJob.([16]byte)}, a: {genOf[a1], genOf[a2]}, b1: {newIngest}, b: {genOf[b1]},
		root: {genOf[a], genOf[b]},
	}
	for _, g := range gens {
		want := sorted(wantDeps[nodeOf(g)])
		if !same(g.DependsOn, want) {
			t.Errorf("generate of %s depends on %v, want %v", nodeOf(g), g.DependsOn, want)
		}
		// Only the dependency-free job is queued now; the others wait.
		if queued := g.QueueRef != nil; queued != (nodeOf(g) == a1) {
			t.Errorf("generate of %s has queue record %v", nodeOf(g), g.QueueRef)
		}
	}
	wantRec := []uuid.UUID{root, a, b} // pre-order, nodes with a generating child
	if len(recs) != 3 {
		t.Fatalf("%d reconcile jobs, want 3", len(recs))
	}
	for i, r := range recs {
		if nodeOf(r) != wantRec[i] || r.Type != course.JobReconcile || r.QueueRef != nil {
			t.Errorf("reconcile %d: node %s type %s", i, nodeOf(r), r.Type)
		}
	}
	if !same(recs[0].DependsOn, []uuid.UUID{genOf[root]}) || !same(recs[1].DependsOn, []uuid.UUID{recs[0].ID}) ||
		!same(recs[2].DependsOn, []uuid.UUID{recs[0].ID}) {
		t.Errorf("reconcile dependencies: %v %v %v", recs[0].DependsOn, recs[1].DependsOn, recs[2].DependsOn)
	}
	if got := ids(plan.Ingestion); !same(got, []uuid.UUID{pendingJob.([16]byte), newIngest}) {
		t.Errorf("ingestion jobs %v, want the in-flight one then the new one", got)
	}
	if plan.Ingestion[1].QueueRef == nil {
		t.Error("the new ingest job has no queue record")
	}
	if plan.EstimatedLLMCalls != 9 {
		t.Errorf("estimated_llm_calls %d, want 9", plan.EstimatedLLMCalls)
	}
	if len(plan.MappingWarnings) != 1 || plan.MappingWarnings[0].MappingID != warn ||
		plan.MappingWarnings[0].State != "validation_failed" || plan.MappingWarnings[0].NodeID != a1 {
		t.Errorf("mapping warnings %+v", plan.MappingWarnings)
	}
	if n := f.one(`SELECT count(*) FROM river_job WHERE kind = 'generation_step' AND queue = 'generation'`).(int64); n != 1 {
		t.Errorf("%d River step jobs, want 1", n)
	}
	params := f.one(`SELECT input_params::text FROM jobs WHERE id = $1`, gens[0].ID).(string)
	for _, want := range []string{`"root_node_id": "` + root.String(), `"target_node_id": null`, `"mode": "free"`, `"step_type": "generate"`} {
		if !contains(params, want) {
			t.Errorf("input_params %s lack %s", params, want)
		}
	}
}

// Ensure refine plans refine(T) and the reconcile chain of its ancestors
// bottom-up, each after the previous one.
func TestRefinePlanShape(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	root := f.node(uuid.Nil, "R", nil)
	a := f.node(root, "A", nil)
	a1 := f.node(a, "A1", nil)
	f.material(a1, course.StateError, "") // refine needs only some material
	plan, err := f.gen.Refine(f.ctx, f.tenant, a1, course.ModeGuided)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Generation) != 1 || plan.Generation[0].Type != course.JobRefine || *plan.Generation[0].NodeID != a1 ||
		len(plan.Generation[0].DependsOn) != 0 || plan.Generation[0].QueueRef == nil {
		t.Fatalf("refine job %+v", plan.Generation)
	}
	recs := plan.Reconciliation
	if len(recs) != 2 || *recs[0].NodeID != a || *recs[1].NodeID != root ||
		!same(recs[0].DependsOn, []uuid.UUID{plan.Generation[0].ID}) || !same(recs[1].DependsOn, []uuid.UUID{recs[0].ID}) {
		t.Fatalf("reconcile chain %+v", recs)
	}
	if plan.EstimatedLLMCalls != 3 || len(plan.Ingestion) != 0 {
		t.Errorf("estimated %d, ingestion %d", plan.EstimatedLLMCalls, len(plan.Ingestion))
	}
}

// Ensure the material checks answer the design's 422 messages.
func TestGenerateMaterialChecks(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	empty := f.node(uuid.Nil, "Empty", nil)
	f.node(empty, "Child", nil)
	broken := f.node(uuid.Nil, "Broken", nil)
	f.material(broken, course.StateError, "")
	f.material(broken, course.StateIntegrityBroken, "")
	for _, tc := range []struct {
		node   uuid.UUID
		refine bool
		want   string
	}{
		{empty, false, "No materials found in the target subtree."},
		{empty, true, "No materials found in the target subtree."},
		{broken, false, "No usable materials in the target subtree."},
	} {
		var err error
		if tc.refine {
			_, err = f.gen.Refine(f.ctx, f.tenant, tc.node, course.ModeFree)
		} else {
			_, err = f.gen.Generate(f.ctx, f.tenant, tc.node, course.ModeFree)
		}
		if course.ErrorCode(err) != course.EINVALID || course.ErrorMessage(err) != tc.want {
			t.Errorf("%v: %v, want 422 %q", tc, err, tc.want)
		}
	}
	if n := f.one(`SELECT count(*) FROM jobs`).(int64); n != 0 {
		t.Errorf("a refused plan left %d jobs", n)
	}
	other := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO tenants (id, name) VALUES ($1, 'other')`, other)
	if _, err := f.gen.Generate(f.ctx, other, broken, course.ModeFree); course.ErrorMessage(err) != "Node not found" {
		t.Errorf("foreign node: %v", err)
	}
}

// Ensure all six conflict reasons fire, first match wins, and disjoint
// sibling subtrees do not conflict.
func TestGenerateConflicts(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	root := f.node(uuid.Nil, "R", nil)
	a := f.node(root, "A", nil)
	b := f.node(root, "B", nil)
	a1 := f.node(a, "A1", nil)
	for _, n := range []uuid.UUID{a1, b} {
		f.material(n, course.StateReady, n.String())
	}
	for _, tc := range []struct {
		active, next uuid.UUID
		want         string
	}{
		{root, root, "both target the entire tree"},
		{root, a, "active job covers entire tree"},
		{a, root, "new request covers entire tree"},
		{a, a, "both target the same node"},
		{a, a1, "target is nested inside active job scope"},
		{a1, a, "active job scope is nested inside target"},
		{a1, b, ""},
	} {
		f.exec(`UPDATE jobs SET status = 'cancelled' WHERE status IN ('queued', 'active')`)
		if _, err := f.gen.Generate(f.ctx, f.tenant, tc.active, course.ModeFree); err != nil {
			t.Fatal(err)
		}
		_, err := f.gen.Generate(f.ctx, f.tenant, tc.next, course.ModeFree)
		if tc.want == "" {
			if err != nil {
				t.Errorf("disjoint subtrees conflict: %v", err)
			}
			continue
		}
		if course.ErrorCode(err) != course.ECONFLICT || course.ErrorMessage(err) != "Generation conflict: "+tc.want {
			t.Errorf("active %s, new %s: %v, want %q", tc.active, tc.next, err, tc.want)
		}
		// Refine is checked against the same in-flight scopes.
		if _, err := f.gen.Refine(f.ctx, f.tenant, tc.next, course.ModeFree); course.ErrorCode(err) != course.ECONFLICT {
			t.Errorf("refine of %s with %s active: %v", tc.next, tc.active, err)
		}
	}
	// A finished plan no longer conflicts.
	f.exec(`UPDATE jobs SET status = 'complete' WHERE status IN ('queued', 'active')`)
	if _, err := f.gen.Generate(f.ctx, f.tenant, root, course.ModeFree); err != nil {
		t.Errorf("after completion: %v", err)
	}
}

// Ensure two concurrent generate requests on one tree: exactly one plan.
func TestGenerateConcurrentRequestsOneWins(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	root := f.node(uuid.Nil, "R", nil)
	f.material(f.node(root, "A", nil), course.StateReady, "h")
	for round := 0; round < 5; round++ {
		f.exec(`UPDATE jobs SET status = 'cancelled' WHERE status IN ('queued', 'active')`)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = f.gen.Generate(f.ctx, f.tenant, root, course.ModeFree) }()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case course.ErrorMessage(err) != "Generation conflict: both target the entire tree":
				t.Fatalf("unexpected error %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d plans accepted, want 1", round, ok)
		}
	}
}

// Ensure an ingest completion releases the generate job waiting for it
// in its own transaction (no reaper pass), and a step completion its
// dependents: the job gets its queue record at once.
func TestCompletionReleasesDependents(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	root := f.node(uuid.Nil, "R", nil)
	leaf := f.node(root, "Leaf", nil)
	m, err := f.materials.CreateMaterial(f.ctx, f.tenant, course.NewMaterial{NodeID: leaf,
		SourceType: course.SourceText, SourceURL: "https://example.com/a"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := f.gen.Generate(f.ctx, f.tenant, root, course.ModeFree)
	if err != nil {
		t.Fatal(err)
	}
	leafGen, rootGen := plan.Generation[0], plan.Generation[1]
	if leafGen.QueueRef != nil || !same(leafGen.DependsOn, []uuid.UUID{*m.JobID}) {
		t.Fatalf("leaf generate %+v", leafGen)
	}
	queued := func(id uuid.UUID) bool {
		return f.one(`SELECT queue_job_id IS NOT NULL FROM jobs WHERE id = $1`, id).(bool)
	}
	if v, _, err := f.jobs.StartIngest(f.ctx, *m.JobID); err != nil || v != course.StartRun {
		t.Fatalf("start ingest %v %v", v, err)
	}
	if err := f.jobs.CompleteIngest(f.ctx, *m.JobID, &course.IngestResult{ProcessedContent: `{}`, ProcessedHash: "h",
		RawHash: "r", External: true}, func(context.Context, course.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !queued(leafGen.ID) || queued(rootGen.ID) {
		t.Fatal("the ingest completion did not release (only) the leaf's generate job")
	}
	// The leaf's step completes: the root's generate is released with it.
	if v, task, err := f.gen.StartStep(f.ctx, leafGen.ID); err != nil || v != course.StartRun || task.NodeID != leaf {
		t.Fatalf("start step %v %+v %v", v, task, err)
	}
	in, err := f.gen.LoadStep(f.ctx, &course.StepTask{TenantID: f.tenant, NodeID: leaf, Mode: course.ModeFree, Step: course.StepGenerate})
	if err != nil {
		t.Fatal(err)
	}
	st := &course.Structure{Title: "t", Summary: "s", Modules: []course.Module{{Title: "m"}}}
	if err := f.gen.CompleteStep(f.ctx, leafGen.ID, &course.StepResult{Fingerprint: in.Fingerprint, Structure: []byte(`{"title":"t"}`),
		Parsed: st}, func(context.Context, course.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !queued(rootGen.ID) {
		t.Fatal("the step completion did not release the root's generate job")
	}
	if n := f.one(`SELECT count(*) FROM structure_nodes`).(int64); n != 1 {
		t.Errorf("%d structure nodes, want 1 module", n)
	}
}

package postgres_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// chunkRow inserts a chunk of a material.
func (f *genFixture) chunk(material, node uuid.UUID, index int, typ, text, meta string) {
	f.exec(`INSERT INTO material_chunks (id, tenant_id, materialnode_id, materialentry_id, chunk_index, chunk_type, text,
		token_count, metadata, content_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'h')`,
		uuid.Must(uuid.NewV7()), f.tenant, node, material, index, typ, text, (len(text)+3)/4, meta)
}

// Ensure a step's input: documents ordered by source type, then node
// pre-order, then material order; chunks ranked by full-text match with
// the node; presentation chunks carrying the timecodes of validated
// mappings; the outline of ready materials; and, once a snapshot holds
// the step's key, that snapshot instead of any of it.
func TestLoadStepInput(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	desc := "matrices and vectors"
	root := f.node(uuid.Nil, "Algebra", &desc)
	child := f.node(root, "Vectors", nil)
	text := f.material(root, course.StateReady, "t")
	video := f.material(child, course.StateReady, "v")
	slides := f.material(child, course.StateReady, "p")
	f.material(child, course.StateError, "")
	f.exec(`UPDATE material_entries SET source_type = 'video' WHERE id = $1`, video)
	f.exec(`UPDATE material_entries SET source_type = 'presentation' WHERE id = $1`, slides)
	f.chunk(text, root, 0, "paragraph", "An unrelated opening.", `{}`)
	f.chunk(text, root, 1, "paragraph", "Matrices multiply vectors.", `{}`)
	f.chunk(slides, child, 0, "slide_text", "Slide one", `{"slide_number": 1}`)
	f.chunk(slides, child, 1, "slide_text", "Slide two", `{"slide_number": 2}`)
	f.chunk(video, child, 0, "transcript", "Hello", `{"start_sec": 0, "end_sec": 5.5}`)
	ninety := 90
	f.mapping(child, slides, video, 2, 60, &ninety, "validated")
	f.mapping(child, slides, video, 1, 10, nil, "pending_validation")

	task := &course.StepTask{TenantID: f.tenant, NodeID: root, RootID: root, Mode: course.ModeFree, Step: course.StepGenerate}
	in, err := f.gen.LoadStep(f.ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if in.Existing != nil || in.Fingerprint != f.fp(root) || in.Target.Title != "Algebra" || in.Target.Description != desc {
		t.Fatalf("input %+v", in)
	}
	var order []string
	for _, d := range in.Documents {
		order = append(order, d.SourceType)
	}
	if len(order) != 3 || order[0] != "video" || order[1] != "presentation" || order[2] != "text" {
		t.Fatalf("documents in order %v", order)
	}
	if e := in.Documents[0].Chunks[0].Metadata.EndSec; e == nil || *e != 5.5 {
		t.Errorf("transcript metadata %+v", in.Documents[0].Chunks[0].Metadata)
	}
	sl := in.Documents[1].Chunks
	if len(sl[0].TimecodeRefs) != 0 || len(sl[1].TimecodeRefs) != 1 || sl[1].TimecodeRefs[0].Start != 60 ||
		*sl[1].TimecodeRefs[0].End != 90 || sl[1].TimecodeRefs[0].VideoMaterialID != video.String() {
		t.Errorf("timecode refs %+v / %+v", sl[0].TimecodeRefs, sl[1].TimecodeRefs)
	}
	tx := in.Documents[2].Chunks
	if tx[1].Rank <= tx[0].Rank {
		t.Errorf("the chunk naming the node's topics ranks %v, the unrelated one %v", tx[1].Rank, tx[0].Rank)
	}
	if len(in.MaterialTree) != 1 || len(in.MaterialTree[0].Materials) != 1 || len(in.MaterialTree[0].Children) != 1 ||
		len(in.MaterialTree[0].Children[0].Materials) != 2 {
		t.Errorf("outline %+v", in.MaterialTree)
	}
	// The child's summary is the newest non-null one, same mode first.
	f.exec(`INSERT INTO structure_snapshots (id, materialnode_id, node_fingerprint, mode, step_type, structure, summary, created_at)
		VALUES ($1, $2, 'a', 'guided', 'generate', '{}', 'guided summary', now()),
		       ($3, $2, 'b', 'free', 'generate', '{}', 'free summary', now() - interval '1 hour')`,
		uuid.Must(uuid.NewV7()), child, uuid.Must(uuid.NewV7()))
	if in, err = f.gen.LoadStep(f.ctx, task); err != nil || len(in.ChildrenSummaries) != 1 || in.ChildrenSummaries[0].Summary != "free summary" {
		t.Fatalf("children summaries %+v %v", in.ChildrenSummaries, err)
	}
	// A snapshot with the step's key: nothing else is read.
	sid := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO structure_snapshots (id, materialnode_id, node_fingerprint, mode, step_type, structure)
		VALUES ($1, $2, $3, 'free', 'generate', '{}')`, sid, root, in.Fingerprint)
	if in, err = f.gen.LoadStep(f.ctx, task); err != nil || in.Existing == nil || *in.Existing != sid || in.Documents != nil {
		t.Fatalf("reuse: %+v %v", in, err)
	}
	// Reconcile has its own key.
	task.Step = course.StepReconcile
	if in, err = f.gen.LoadStep(f.ctx, task); err != nil || in.Existing != nil {
		t.Fatalf("reconcile reused the generate snapshot: %+v %v", in, err)
	}
	// No ready material left: a permanent failure.
	f.exec(`UPDATE material_entries SET error_message = 'x'`)
	if _, err = f.gen.LoadStep(f.ctx, task); course.ErrorMessage(err) != course.MsgNoReadyMaterials {
		t.Errorf("no ready material: %v", err)
	}
}

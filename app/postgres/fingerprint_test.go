package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

func h(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func lines(l ...string) string { return h(strings.Join(l, "\n")) }

// Ensure the fingerprint follows the data model's line format exactly:
// title line, ready materials by order, validated mappings by (slide,
// start), every child by order (empty ones too); the value is computed
// here independently of the store and cached on every node.
func TestFingerprintLineFormat(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	about, b := "About", "b"
	root := f.node(uuid.Nil, "Course", &about)
	a := f.node(root, "A", nil)
	bNode := f.node(root, "B", &b)
	a1 := f.node(a, "A1", nil)
	m1 := f.material(a, course.StateReady, "h1")
	f.material(a, course.StateError, "")
	m3 := f.material(a, course.StateReady, "h2")
	f.material(a, course.StatePending, "")
	f.material(a, course.StateIntegrityBroken, "")
	f.material(a1, course.StateReady, "h3")
	sixty := 60
	f.mapping(a, m1, m3, 2, 30, &sixty, "validated")
	f.mapping(a, m1, m3, 1, 5, nil, "validated")
	f.mapping(a, m1, m3, 1, 0, nil, "pending_validation")

	fpA1 := lines("t:"+h("A1\x1f"), "m:h3")
	fpA := lines("t:"+h("A\x1f"), "m:h1", "m:h2",
		"s:"+m1.String()+":"+m3.String()+":1:5:", "s:"+m1.String()+":"+m3.String()+":2:30:60", "n:"+fpA1)
	fpB := lines("t:" + h("B\x1fb"))
	fpRoot := lines("t:"+h("Course\x1fAbout"), "n:"+fpA, "n:"+fpB)
	if got := f.fp(root); got != fpRoot {
		t.Fatalf("root fingerprint %s, want %s", got, fpRoot)
	}
	for id, want := range map[uuid.UUID]string{root: fpRoot, a: fpA, bNode: fpB, a1: fpA1} {
		if got := f.cachedFP(id); got == nil || *got != want {
			t.Errorf("cached fingerprint of %s = %v, want %s", id, got, want)
		}
	}
	// A cached subtree is used as it is: corrupting a cached child shows
	// up in the parent only after that child is invalidated.
	f.exec(`UPDATE material_nodes SET node_fingerprint = NULL WHERE id = $1`, root)
	f.exec(`UPDATE material_nodes SET node_fingerprint = 'cached' WHERE id = $1`, bNode)
	if got, want := f.fp(root), lines("t:"+h("Course\x1fAbout"), "n:"+fpA, "n:cached"); got != want {
		t.Errorf("a cached child is not reused: %s", got)
	}
}

// Ensure every invalidating event of the data model clears the cached
// fingerprint of the node chain up to the root in its own transaction
// (epoch bumped), and that content changes change the root's value.
func TestFingerprintInvalidatedByEveryEvent(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	root := f.node(uuid.Nil, "Course", nil)
	a := f.node(root, "A", nil)
	b := f.node(root, "B", nil)
	a1 := f.node(a, "A1", nil)
	ready := f.material(a1, course.StateReady, "h1")
	var c uuid.UUID
	var created *course.Material
	check := func(event string, changes bool, do func()) {
		t.Helper()
		before := f.fp(root)
		epoch := f.one(`SELECT fingerprint_epoch FROM material_nodes WHERE id = $1`, root).(int64)
		do()
		if f.cachedFP(root) != nil {
			t.Errorf("%s: the root's cached fingerprint survived", event)
		}
		if e := f.one(`SELECT fingerprint_epoch FROM material_nodes WHERE id = $1`, root).(int64); e <= epoch {
			t.Errorf("%s: epoch %d not bumped", event, e)
		}
		if after := f.fp(root); changes && after == before {
			t.Errorf("%s: root fingerprint unchanged", event)
		}
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	title, desc := "A renamed", "new description"
	check("child created", true, func() { c = f.node(a1, "C", nil) })
	check("title changed", true, func() { must(f.nodes.UpdateNode(f.ctx, f.tenant, a, course.NodeUpdate{Title: &title})) })
	check("description changed", true, func() {
		must(f.nodes.UpdateNode(f.ctx, f.tenant, c, course.NodeUpdate{Description: &desc}))
	})
	check("node moved", true, func() { must(f.nodes.MoveNode(f.ctx, f.tenant, c, &b)) })
	check("node reordered", true, func() { must(f.nodes.ReorderNode(f.ctx, f.tenant, b, 0)) })
	check("node deleted", true, func() {
		if err := f.nodes.DeleteNode(f.ctx, f.tenant, c); err != nil {
			t.Fatal(err)
		}
	})
	check("material created", false, func() {
		var err error
		created, err = f.materials.CreateMaterial(f.ctx, f.tenant, course.NewMaterial{NodeID: a1,
			SourceType: course.SourceText, SourceURL: "https://example.com/x"})
		must(created, err)
	})
	check("ingest success", true, func() {
		if v, _, err := f.jobs.StartIngest(f.ctx, *created.JobID); err != nil || v != course.StartRun {
			t.Fatalf("start ingest: %v %v", v, err)
		}
		err := f.jobs.CompleteIngest(f.ctx, *created.JobID, &course.IngestResult{ProcessedContent: `{"title":"x"}`,
			ProcessedHash: "h2", RawHash: "r", External: true}, func(context.Context, course.Tx) error { return nil })
		must(nil, err)
	})
	failing, err := f.materials.CreateMaterial(f.ctx, f.tenant, course.NewMaterial{NodeID: a1,
		SourceType: course.SourceText, SourceURL: "https://example.com/y"})
	must(failing, err)
	check("ingest final failure", false, func() { must(nil, f.jobs.FailJob(f.ctx, *failing.JobID, "broken")) })
	check("material retried", false, func() { must(f.materials.RetryMaterial(f.ctx, f.tenant, failing.ID)) })
	check("material deleted", true, func() { must(nil, f.materials.DeleteMaterial(f.ctx, f.tenant, ready)) })
	// The reaper unlocks a material whose ingest job ended without it.
	retried, _ := f.materials.GetMaterial(f.ctx, f.tenant, failing.ID)
	f.exec(`UPDATE jobs SET status = 'failed', error_message = 'lost' WHERE id = $1`, *retried.JobID)
	check("state reconciled by the reaper", false, func() { must(f.jobs.Reap(f.ctx, time.Hour)) })
}

// Ensure a fingerprint computed from a state that an invalidation changes
// before the cached write lands is never written over it.
func TestFingerprintConcurrentInvalidationWins(t *testing.T) {
	t.Parallel()
	f := newGenFixture(t)
	root := f.node(uuid.Nil, "Course", nil)
	leaf := f.node(root, "Leaf", nil)
	f.material(leaf, course.StateReady, "h1")
	tx, err := f.db.Pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(f.ctx) }()
	// An uncommitted invalidation of the chain holds the rows.
	if _, err := tx.Exec(f.ctx, `UPDATE material_nodes SET title = 'Leaf 2', node_fingerprint = NULL,
		fingerprint_epoch = fingerprint_epoch + 1 WHERE id IN ($1, $2)`, leaf, root); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := f.gen.Fingerprint(f.ctx, f.tenant, root); done <- err }()
	deadline := time.Now().Add(10 * time.Second)
	for f.one(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).(int64) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cached write never waited for the invalidation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Commit(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f.cachedFP(leaf) != nil || f.cachedFP(root) != nil {
		t.Fatal("a stale fingerprint overwrote a concurrent invalidation")
	}
	if got, want := f.fp(leaf), lines("t:"+h("Leaf 2\x1f"), "m:h1"); got != want {
		t.Errorf("recomputed leaf %s, want %s", got, want)
	}
}

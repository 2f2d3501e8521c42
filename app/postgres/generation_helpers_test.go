package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// genFixture is a tenant on a fresh database with the stores generation
// touches; the queue inserts real River jobs (no worker runs).
type genFixture struct {
	t         *testing.T
	ctx       context.Context
	db        *postgres.DB
	tenant    uuid.UUID
	nodes     *postgres.NodeStore
	materials *postgres.MaterialStore
	gen       *postgres.GenerationStore
	jobs      *postgres.JobStore
}

func newGenFixture(t *testing.T) *genFixture {
	t.Helper()
	db := mustOpen(t, testdb.New(t))
	enq, err := jobs.NewEnqueuer(db.SQL, jobs.EnqueueOptions{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	f := &genFixture{t: t, ctx: context.Background(), db: db, tenant: uuid.Must(uuid.NewV7()),
		nodes: postgres.NewNodeStore(db, enq), materials: postgres.NewMaterialStore(db, enq),
		gen: postgres.NewGenerationStore(db, enq), jobs: postgres.NewJobStore(db, enq)}
	f.exec(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, f.tenant, "t-"+f.tenant.String())
	return f
}

func (f *genFixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Pool.Exec(f.ctx, sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *genFixture) one(sql string, args ...any) any {
	f.t.Helper()
	var v any
	if err := f.db.Pool.QueryRow(f.ctx, sql, args...).Scan(&v); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// node creates a node under parent (uuid.Nil: a root).
func (f *genFixture) node(parent uuid.UUID, title string, desc *string) uuid.UUID {
	f.t.Helper()
	var p *uuid.UUID
	if parent != uuid.Nil {
		p = &parent
	}
	n, err := f.nodes.CreateNode(f.ctx, f.tenant, p, title, desc)
	if err != nil {
		f.t.Fatal(err)
	}
	return n.ID
}

// material inserts a material of node directly in the given state:
// ready (processed, hash h), pending (with an unfinished ingest job),
// raw, error or integrity_broken.
func (f *genFixture) material(node uuid.UUID, state, hash string) uuid.UUID {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	order := f.one(`SELECT COALESCE(MAX("order") + 1, 0) FROM material_entries WHERE materialnode_id = $1`, node)
	f.exec(`INSERT INTO material_entries (id, tenant_id, materialnode_id, source_type, "order", source_url, filename)
		VALUES ($1, $2, $3, 'text', $4, $6, $5)`, id, f.tenant, node, order, state+".md", "https://example.com/"+id.String())
	switch state {
	case course.StateReady:
		f.exec(`UPDATE material_entries SET processed_content = '{"title":"T"}', processed_hash = $2,
			raw_hash = 'r', processed_raw_hash = 'r' WHERE id = $1`, id, hash)
	case course.StatePending:
		job := uuid.Must(uuid.NewV7())
		f.exec(`INSERT INTO jobs (id, tenant_id, materialnode_id, materialentry_id, job_type, max_attempts, queue_job_id)
			VALUES ($1, $2, $3, $4, 'ingest', 3, (random() * 1e9)::bigint)`, job, f.tenant, node, id)
		f.exec(`UPDATE material_entries SET job_id = $2, pending_since = now() WHERE id = $1`, id, job)
	case course.StateError:
		f.exec(`UPDATE material_entries SET error_message = 'broken', processed_content = '{}', processed_hash = 'x' WHERE id = $1`, id)
	case course.StateIntegrityBroken:
		f.exec(`UPDATE material_entries SET processed_content = '{}', processed_hash = 'y', raw_hash = 'a',
			processed_raw_hash = 'b' WHERE id = $1`, id)
	}
	return id
}

func (f *genFixture) cachedFP(node uuid.UUID) *string {
	f.t.Helper()
	var v *string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT node_fingerprint FROM material_nodes WHERE id = $1`, node).Scan(&v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *genFixture) fp(node uuid.UUID) string {
	f.t.Helper()
	v, err := f.gen.Fingerprint(f.ctx, f.tenant, node)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *genFixture) mapping(node, pres, video uuid.UUID, slide, start int, end *int, state string) uuid.UUID {
	id := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO slide_video_mappings (id, materialnode_id, presentation_materialentry_id, video_materialentry_id,
		slide_number, video_timecode_start, video_timecode_start_sec, video_timecode_end_sec, validation_state)
		VALUES ($1, $2, $3, $4, $5, 'x', $6, $7, $8)`, id, node, pres, video, slide, start, end, state)
	return id
}

func sorted(in []uuid.UUID) []uuid.UUID {
	out := append([]uuid.UUID{}, in...)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// Generate plans the generation of a node's subtree (docs/design/generation.md, "Plan").
func (s *GenerationStore) Generate(ctx context.Context, tenantID, nodeID uuid.UUID, mode string) (*course.GenerationPlan, error) {
	return s.plan(ctx, tenantID, nodeID, mode, false)
}

// Refine plans the refinement of one node and the reconciliation of its
// ancestors.
func (s *GenerationStore) Refine(ctx context.Context, tenantID, nodeID uuid.UUID, mode string) (*course.GenerationPlan, error) {
	return s.plan(ctx, tenantID, nodeID, mode, true)
}

// planner accumulates the jobs of one plan inside its transaction.
type planner struct {
	s        *GenerationStore
	ctx      context.Context
	tx       *gorm.DB
	tenantID uuid.UUID
	params   stepParams
	created  []*jobRow // every step job, in creation order
	ingest   []uuid.UUID
	gens     []uuid.UUID
	recs     []uuid.UUID
}

func (s *GenerationStore) plan(ctx context.Context, tenantID, nodeID uuid.UUID, mode string, refine bool) (*course.GenerationPlan, error) {
	var plan *course.GenerationPlan
	// The tree lock orders the plan against structural changes (a node
	// deleted while its jobs are inserted); the root lock is the
	// generation lock of the spec.
	err := inTreeTx(ctx, s.db, tenantID, func(tx *gorm.DB) error {
		up, err := chain(tx, tenantID, nodeID)
		if err != nil {
			return err
		}
		rootID := up[len(up)-1]
		if err := lockKey(tx, "generate:"+rootID.String()); err != nil {
			return err
		}
		var scope *uuid.UUID
		if rootID != nodeID {
			scope = &nodeID
		}
		root, preorder, err := subtree(tx, tenantID, nodeID)
		if err != nil {
			return err
		}
		if err := conflictCheck(tx, tenantID, rootID, scope, up[1:], preorder); err != nil {
			return err
		}
		if err := materialCheck(preorder, refine); err != nil {
			return err
		}
		p := &planner{s: s, ctx: ctx, tx: tx, tenantID: tenantID, params: stepParams{
			RootNodeID: rootID, TargetNodeID: scope, Mode: mode, RequestID: course.RequestIDFrom(ctx)}}
		if refine {
			err = p.refine(nodeID, up[1:])
		} else {
			err = p.generate(root, preorder)
		}
		if err != nil {
			return err
		}
		if err := p.release(); err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(preorder))
		for _, n := range preorder {
			ids = append(ids, n.ID)
		}
		plan = &course.GenerationPlan{EstimatedLLMCalls: len(p.gens) + len(p.recs)}
		if plan.MappingWarnings, err = mappingWarnings(tx, ids); err != nil {
			return err
		}
		if plan.Generation, err = jobReports(tx, p.gens); err != nil {
			return err
		}
		if plan.Reconciliation, err = jobReports(tx, p.recs); err != nil {
			return err
		}
		plan.Ingestion, err = jobReports(tx, p.ingest)
		return err
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// generate builds the post-order generate jobs (with their ingest
// dependencies) and the pre-order reconcile jobs.
func (p *planner) generate(root *treeNode, preorder []*treeNode) error {
	gen := map[uuid.UUID]uuid.UUID{}
	var visit func(n *treeNode) error
	visit = func(n *treeNode) error {
		for _, c := range n.children {
			if err := visit(c); err != nil {
				return err
			}
		}
		var deps []uuid.UUID
		usable := false
		for _, m := range n.materials {
			switch toMaterial(m).State() {
			case course.StatePending:
				deps = append(deps, *m.JobID)
				p.addIngest(*m.JobID)
				usable = true
			case course.StateRaw:
				id, err := p.newIngest(m)
				if err != nil {
					return err
				}
				deps = append(deps, id)
				usable = true
			case course.StateReady:
				usable = true
			}
		}
		hasChild := false
		for _, c := range n.children {
			if g, ok := gen[c.ID]; ok {
				deps = append(deps, g)
				hasChild = true
			}
		}
		if !usable && !hasChild {
			return nil
		}
		id, err := p.insert(course.JobGenerate, n.ID, deps)
		if err != nil {
			return err
		}
		gen[n.ID] = id
		p.gens = append(p.gens, id)
		return nil
	}
	if err := visit(root); err != nil {
		return err
	}
	// Reconcile, pre-order, on nodes with a generate job and a child with
	// one: the top-most after the last generate job, every other after its
	// nearest reconciled ancestor.
	rec := map[uuid.UUID]uuid.UUID{}
	parent := map[uuid.UUID]*treeNode{}
	for _, n := range preorder {
		for _, c := range n.children {
			parent[c.ID] = n
		}
	}
	for _, n := range preorder {
		if _, ok := gen[n.ID]; !ok || !slices.ContainsFunc(n.children, func(c *treeNode) bool { _, ok := gen[c.ID]; return ok }) {
			continue
		}
		dep := p.gens[len(p.gens)-1]
		for a := parent[n.ID]; a != nil; a = parent[a.ID] {
			if r, ok := rec[a.ID]; ok {
				dep = r
				break
			}
		}
		id, err := p.insert(course.JobReconcile, n.ID, []uuid.UUID{dep})
		if err != nil {
			return err
		}
		rec[n.ID] = id
		p.recs = append(p.recs, id)
	}
	return nil
}

// refine builds refine(T) and the reconcile chain of its ancestors,
// nearest first, each after the previous one.
func (p *planner) refine(target uuid.UUID, ancestors []uuid.UUID) error {
	prev, err := p.insert(course.JobRefine, target, nil)
	if err != nil {
		return err
	}
	p.gens = append(p.gens, prev)
	for _, a := range ancestors {
		if prev, err = p.insert(course.JobReconcile, a, []uuid.UUID{prev}); err != nil {
			return err
		}
		p.recs = append(p.recs, prev)
	}
	return nil
}

func (p *planner) addIngest(id uuid.UUID) {
	if !slices.Contains(p.ingest, id) {
		p.ingest = append(p.ingest, id)
	}
}

// newIngest gives a raw material a new ingest job.
func (p *planner) newIngest(m *materialRow) (uuid.UUID, error) {
	if err := insertIngestJob(p.ctx, p.tx, p.s.jobs, m); err != nil {
		return uuid.Nil, err
	}
	var id []uuid.UUID
	if err := p.tx.Raw(`SELECT job_id FROM material_entries WHERE id = ?`, m.ID).Scan(&id).Error; err != nil {
		return uuid.Nil, fmt.Errorf("read new ingest job: %w", err)
	}
	if len(id) != 1 {
		return uuid.Nil, fmt.Errorf("material %s has no ingest job", m.ID)
	}
	p.addIngest(id[0])
	return id[0], nil
}

// insert creates a step job on node with its dependencies; its queue
// record comes in release, once every job of the plan exists.
func (p *planner) insert(step string, node uuid.UUID, deps []uuid.UUID) (uuid.UUID, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, fmt.Errorf("new job id: %w", err)
	}
	params := p.params
	params.StepType = step
	raw, err := json.Marshal(params)
	if err != nil {
		return uuid.Nil, fmt.Errorf("encode step params: %w", err)
	}
	tenant, n := p.tenantID, node
	row := &jobRow{ID: id, TenantID: &tenant, NodeID: &n, Type: step, Priority: course.PriorityNormal,
		Status: course.JobQueued, InputParams: raw, MaxAttempts: stepMaxAttempts}
	if err := p.tx.Omit("queued_at", "updated_at").Create(row).Error; err != nil {
		return uuid.Nil, fmt.Errorf("insert step job: %w", err)
	}
	for _, d := range deps {
		if err := p.tx.Exec(`INSERT INTO job_dependencies (job_id, depends_on_job_id) VALUES (?, ?)
			ON CONFLICT DO NOTHING`, id, d).Error; err != nil {
			return uuid.Nil, fmt.Errorf("insert job dependency: %w", err)
		}
	}
	p.created = append(p.created, row)
	return id, nil
}

// release schedules the plan's jobs whose dependencies are all complete
// (none, or ingest jobs that finished). The in-flight ingest jobs are
// locked first: one completing concurrently either commits before this
// check (and is seen complete) or waits and then releases the new
// dependents itself.
func (p *planner) release() error {
	if len(p.ingest) > 0 {
		var locked []uuid.UUID
		if err := p.tx.Raw(`SELECT id FROM jobs WHERE id IN ? ORDER BY id FOR UPDATE`, p.ingest).Scan(&locked).Error; err != nil {
			return fmt.Errorf("lock ingest dependencies: %w", err)
		}
	}
	for _, r := range p.created {
		var status string
		if err := p.tx.Raw(`SELECT status FROM jobs WHERE id = ?`, r.ID).Scan(&status).Error; err != nil {
			return fmt.Errorf("read plan job: %w", err)
		}
		if status != course.JobQueued {
			continue // failed meanwhile by propagation
		}
		failed, done, err := dependencyState(p.tx, r.ID)
		if err != nil {
			return err
		}
		if failed != nil {
			if err := p.s.finish(p.ctx, p.tx, r, course.JobFailed, dependencyFailed(*failed)); err != nil {
				return err
			}
			continue
		}
		if !done {
			continue
		}
		if _, err := schedule(p.ctx, p.tx, p.s.jobs, r); err != nil {
			return err
		}
	}
	return nil
}

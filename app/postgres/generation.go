package postgres

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// stepMaxAttempts is the attempt limit of generate, reconcile and refine
// jobs (docs/design/generation.md).
const stepMaxAttempts = 3

// GenerationStore plans generation, runs the state machine of its steps
// and reads their snapshots (course.GenerationService, StepLifecycle,
// StructureService; docs/design/generation.md). It shares the job state
// machine of JobStore: failure, propagation, release.
type GenerationStore struct {
	*JobStore
}

var (
	_ course.GenerationService = (*GenerationStore)(nil)
	_ course.StepLifecycle     = (*GenerationStore)(nil)
	_ course.StructureService  = (*GenerationStore)(nil)
)

// NewGenerationStore returns a GenerationStore; jobs schedules the queue
// records of the steps and of the ingest jobs a plan creates.
func NewGenerationStore(db *DB, jobs course.JobQueue) *GenerationStore {
	return &GenerationStore{JobStore: NewJobStore(db, jobs)}
}

// stepParams are the input_params of a generation step.
type stepParams struct {
	RootNodeID   uuid.UUID  `json:"root_node_id"`
	TargetNodeID *uuid.UUID `json:"target_node_id"` // request scope; null = whole tree
	Mode         string     `json:"mode"`
	StepType     string     `json:"step_type"`
	RequestID    string     `json:"request_id,omitempty"`
}

func readStepParams(r *jobRow) (stepParams, error) {
	var p stepParams
	if err := json.Unmarshal(r.InputParams, &p); err != nil {
		return p, fmt.Errorf("decode step params of job %s: %w", r.ID, err)
	}
	return p, nil
}

// chain returns the node's ancestor chain, the node first and its root
// last; ENOTFOUND for an unknown or foreign node.
func chain(tx *gorm.DB, tenantID, id uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.Raw(`WITH RECURSIVE up AS (
			SELECT id, parent_materialnode_id, 0 AS depth FROM material_nodes WHERE id = ? AND tenant_id = ?
			UNION ALL
			SELECT m.id, m.parent_materialnode_id, up.depth + 1 FROM material_nodes m
			JOIN up ON m.id = up.parent_materialnode_id WHERE m.tenant_id = ? AND up.depth < 10000
		) SELECT id FROM up ORDER BY depth`, id, tenantID, tenantID).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("load ancestors: %w", err)
	}
	if len(ids) == 0 {
		return nil, errNodeNotFound()
	}
	return ids, nil
}

// treeNode is a node of a loaded subtree, children by (order, id).
type treeNode struct {
	ID          uuid.UUID  `gorm:"column:id"`
	ParentID    *uuid.UUID `gorm:"column:parent_materialnode_id"`
	Title       string     `gorm:"column:title"`
	Description *string    `gorm:"column:description"`
	Order       int        `gorm:"column:order"`
	children    []*treeNode
	materials   []*materialRow
}

// subtree loads the subtree rooted at id with its materials; the root is
// returned, preorder lists every node in pre-order.
func subtree(tx *gorm.DB, tenantID, id uuid.UUID) (root *treeNode, preorder []*treeNode, err error) {
	var nodes []*treeNode
	if err := tx.Raw(`WITH RECURSIVE sub AS (
			SELECT id, parent_materialnode_id, title, description, "order" FROM material_nodes WHERE id = ? AND tenant_id = ?
			UNION
			SELECT m.id, m.parent_materialnode_id, m.title, m.description, m."order" FROM material_nodes m
			JOIN sub ON m.parent_materialnode_id = sub.id WHERE m.tenant_id = ?
		) SELECT * FROM sub ORDER BY "order", id`, id, tenantID, tenantID).Scan(&nodes).Error; err != nil {
		return nil, nil, fmt.Errorf("load subtree: %w", err)
	}
	byID := map[uuid.UUID]*treeNode{}
	ids := make([]uuid.UUID, 0, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
		ids = append(ids, n.ID)
	}
	root = byID[id]
	if root == nil {
		return nil, nil, errNodeNotFound()
	}
	for _, n := range nodes { // already by (order, id)
		if n.ID != id && n.ParentID != nil && byID[*n.ParentID] != nil {
			p := byID[*n.ParentID]
			p.children = append(p.children, n)
		}
	}
	var rows []materialRow
	// The processed content (up to tens of MiB) is not read: its presence
	// is all the derived state needs.
	if err := tx.Select(lightMaterialColumns).Where("tenant_id = ? AND materialnode_id IN ?", tenantID, ids).
		Order(`"order", id`).Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("load subtree materials: %w", err)
	}
	for i := range rows {
		if n := byID[rows[i].NodeID]; n != nil {
			n.materials = append(n.materials, &rows[i])
		}
	}
	var walk func(n *treeNode)
	walk = func(n *treeNode) {
		preorder = append(preorder, n)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(root)
	return root, preorder, nil
}

// lightMaterialColumns are the material columns without the processed
// content, which reads as ” when present.
const lightMaterialColumns = `id, tenant_id, materialnode_id, source_type, "order", source_url, storage_key, filename,
	content_type, raw_hash, raw_size_bytes, processed_raw_hash, processed_hash,
	CASE WHEN processed_content IS NULL THEN NULL ELSE '' END AS processed_content, processed_at, job_id,
	pending_since, error_message, created_at, updated_at`

// jobReports reads jobs with their dependencies, in the order of ids.
func jobReports(tx *gorm.DB, ids []uuid.UUID) ([]*course.JobReport, error) {
	out := make([]*course.JobReport, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []jobRow
	if err := tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load plan jobs: %w", err)
	}
	var deps []struct {
		JobID          uuid.UUID
		DependsOnJobID uuid.UUID
	}
	if err := tx.Raw(`SELECT job_id, depends_on_job_id FROM job_dependencies WHERE job_id IN ?
		ORDER BY depends_on_job_id`, ids).Scan(&deps).Error; err != nil {
		return nil, fmt.Errorf("load plan dependencies: %w", err)
	}
	depsOf := map[uuid.UUID][]uuid.UUID{}
	for _, d := range deps {
		depsOf[d.JobID] = append(depsOf[d.JobID], d.DependsOnJobID)
	}
	byID := map[uuid.UUID]*jobRow{}
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	for _, id := range ids {
		r := byID[id]
		if r == nil {
			return nil, fmt.Errorf("plan job %s vanished", id)
		}
		d := depsOf[id]
		if d == nil {
			d = []uuid.UUID{}
		}
		rep := &course.JobReport{Job: *toJob(r, d)}
		if r.QueueJobID != nil {
			ref := course.QueueRef(*r.QueueJobID)
			rep.QueueRef = &ref
		}
		out = append(out, rep)
	}
	return out, nil
}

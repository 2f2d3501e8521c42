package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/course-supporter/course-supporter/app/course"
)

// The read paths (tree, list, get) scan pgx rows by hand instead of
// through gorm: gorm's reflective Scan was almost half of the CPU of a tree
// read (docs/performance.md). Writes stay on gorm, where the row count is
// one and the transaction dominates.

// nodeColumns are the material_nodes columns scanNode reads, in its order.
const nodeColumns = `id, tenant_id, parent_materialnode_id, title, description, learning_goal,
	expected_knowledge, expected_skills, "order", node_fingerprint, created_at, updated_at`

// treeSQL loads the subtree of $1 (tenant $2), each level by (order, id).
// bench/read runs the same statement through pgbench.
const treeSQL = `WITH RECURSIVE sub AS (
		SELECT ` + nodeColumns + ` FROM material_nodes WHERE id = $1 AND tenant_id = $2
		UNION
		SELECT m.id, m.tenant_id, m.parent_materialnode_id, m.title, m.description, m.learning_goal,
			m.expected_knowledge, m.expected_skills, m."order", m.node_fingerprint, m.created_at, m.updated_at
		FROM material_nodes m JOIN sub ON m.parent_materialnode_id = sub.id
		WHERE m.tenant_id = $2
	)
	SELECT * FROM sub ORDER BY "order", id`

// nodeScan holds the scan targets of one row; reused across rows.
type nodeScan struct {
	id, tenant, parent pgtype.UUID
	row                nodeRow
}

func (s *nodeScan) dest() []any {
	r := &s.row
	return []any{&s.id, &s.tenant, &s.parent, &r.Title, &r.Description, &r.LearningGoal,
		&r.ExpectedKnowledge, &r.ExpectedSkills, &r.Order, &r.Fingerprint, &r.CreatedAt, &r.UpdatedAt}
}

// node converts the scanned row; byte slices are copied by pgx per Scan.
func (s *nodeScan) node() *course.Node {
	s.row.ID, s.row.TenantID, s.row.ParentID = s.id.Bytes, s.tenant.Bytes, nil
	if s.parent.Valid {
		p := uuid.UUID(s.parent.Bytes)
		s.row.ParentID = &p
	}
	return toNode(&s.row)
}

// scanNodes reads every row of rows as nodes.
func scanNodes(rows pgx.Rows, capacity int) ([]*course.Node, error) {
	defer rows.Close()
	out := make([]*course.Node, 0, capacity)
	var s nodeScan
	dest := s.dest()
	for rows.Next() {
		s.row = nodeRow{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, s.node())
	}
	return out, rows.Err()
}

// Tree loads the subtree of id in one recursive query and links it.
func (s *NodeStore) Tree(ctx context.Context, tenantID, id uuid.UUID) (*course.Node, error) {
	rows, err := s.db.Pool.Query(ctx, treeSQL, id, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load tree: %w", err)
	}
	nodes, err := scanNodes(rows, 16)
	if err != nil {
		return nil, fmt.Errorf("load tree: %w", err)
	}
	if len(nodes) == 0 {
		return nil, errNodeNotFound()
	}
	byID := make(map[uuid.UUID]*course.Node, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	var root *course.Node
	for _, n := range nodes { // rows are by (order, id), so children come out sorted
		if n.ID == id {
			root = n
			continue
		}
		if p := byID[*n.ParentID]; p != nil {
			p.Children = append(p.Children, n)
		}
	}
	return root, nil
}

// ListRoots pages the tenant's roots, newest first: the count and the page
// in one round trip.
func (s *NodeStore) ListRoots(ctx context.Context, tenantID uuid.UUID, limit, offset int) ([]*course.Node, int, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT count(*) FROM material_nodes WHERE tenant_id = $1 AND parent_materialnode_id IS NULL`, tenantID)
	b.Queue(`SELECT `+nodeColumns+` FROM material_nodes WHERE tenant_id = $1 AND parent_materialnode_id IS NULL
		ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, tenantID, limit, offset)
	br := s.db.Pool.SendBatch(ctx, b)
	defer br.Close()
	var total int
	if err := br.QueryRow().Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count roots: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, 0, fmt.Errorf("list roots: %w", err)
	}
	nodes, err := scanNodes(rows, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list roots: %w", err)
	}
	return nodes, total, nil
}

// GetNode returns one node of the tenant.
func (s *NodeStore) GetNode(ctx context.Context, tenantID, id uuid.UUID) (*course.Node, error) {
	var sc nodeScan
	err := s.db.Pool.QueryRow(ctx, `SELECT `+nodeColumns+` FROM material_nodes WHERE id = $1 AND tenant_id = $2`,
		id, tenantID).Scan(sc.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNodeNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load node: %w", err)
	}
	return sc.node(), nil
}

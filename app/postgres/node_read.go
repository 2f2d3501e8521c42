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

// nodeScan holds the scan targets of one row; reused across rows. UUIDs
// and nullable text scan into pgtype values: pgx fills those directly,
// where *string targets go through its reflective pointer plan.
type nodeScan struct {
	id, tenant, parent             pgtype.UUID
	description, goal, fingerprint pgtype.Text
	row                            nodeRow
}

func (s *nodeScan) dest() []any {
	r := &s.row
	return []any{&s.id, &s.tenant, &s.parent, &r.Title, &s.description, &s.goal,
		&r.ExpectedKnowledge, &r.ExpectedSkills, &r.Order, &s.fingerprint, &r.CreatedAt, &r.UpdatedAt}
}

// node converts the scanned row; byte slices are copied by pgx per Scan.
// The parent id and the nullable strings the node points to share one
// allocation per row.
func (s *nodeScan) node() *course.Node {
	refs := &nodeRefs{}
	s.row.ID, s.row.TenantID, s.row.ParentID = s.id.Bytes, s.tenant.Bytes, nil
	if s.parent.Valid {
		refs.parent = s.parent.Bytes
		s.row.ParentID = &refs.parent
	}
	s.row.Description = textPtr(&refs.description, s.description)
	s.row.LearningGoal = textPtr(&refs.goal, s.goal)
	s.row.Fingerprint = textPtr(&refs.fingerprint, s.fingerprint)
	return toNode(&s.row)
}

// nodeRefs is the storage behind a scanned node's pointer fields.
type nodeRefs struct {
	parent                         uuid.UUID
	description, goal, fingerprint string
}

// textPtr stores t in *dst and returns dst, or nil for NULL.
func textPtr(dst *string, t pgtype.Text) *string {
	if !t.Valid {
		return nil
	}
	*dst = t.String
	return dst
}

// pgUUID passes id as a query parameter without the text round trip of
// uuid.UUID's driver.Valuer (and the encode errors pgx builds on the way).
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

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
	rows, err := s.db.Pool.Query(ctx, treeSQL, pgUUID(id), pgUUID(tenantID))
	if err != nil {
		return nil, fmt.Errorf("load tree: %w", err)
	}
	nodes, err := scanNodes(rows, 64)
	if err != nil {
		return nil, fmt.Errorf("load tree: %w", err)
	}
	if len(nodes) == 0 {
		return nil, errNodeNotFound()
	}
	return linkTree(nodes, id), nil
}

// linkTree links nodes (rows by (order, id), so each level comes out
// sorted) under their parents and returns the one whose id is root. The
// children lists are cut from one backing array, sized by a first pass.
func linkTree(nodes []*course.Node, root uuid.UUID) *course.Node {
	index := make(map[uuid.UUID]int, len(nodes))
	for i, n := range nodes {
		index[n.ID] = i
	}
	parents := make([]int, len(nodes)) // index of each node's parent, -1 for none
	counts := make([]int, len(nodes))
	for i, n := range nodes {
		parents[i] = -1
		if n.ID == root || n.ParentID == nil {
			continue
		}
		if p, ok := index[*n.ParentID]; ok {
			parents[i] = p
			counts[p]++
		}
	}
	backing := make([]*course.Node, 0, len(nodes))
	for i, n := range nodes {
		if counts[i] > 0 {
			n.Children = backing[len(backing) : len(backing) : len(backing)+counts[i]]
			backing = backing[:len(backing)+counts[i]]
		}
	}
	var top *course.Node
	for i, n := range nodes {
		if n.ID == root {
			top = n
		} else if p := parents[i]; p >= 0 {
			nodes[p].Children = append(nodes[p].Children, n)
		}
	}
	return top
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

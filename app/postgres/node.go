package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// nodeRow is the material_nodes row.
type nodeRow struct {
	ID                uuid.UUID  `gorm:"column:id;primaryKey"`
	TenantID          uuid.UUID  `gorm:"column:tenant_id"`
	ParentID          *uuid.UUID `gorm:"column:parent_materialnode_id"`
	Title             string     `gorm:"column:title"`
	Description       *string    `gorm:"column:description"`
	LearningGoal      *string    `gorm:"column:learning_goal"`
	ExpectedKnowledge []byte     `gorm:"column:expected_knowledge"`
	ExpectedSkills    []byte     `gorm:"column:expected_skills"`
	Order             int        `gorm:"column:order"`
	Fingerprint       *string    `gorm:"column:node_fingerprint"`
	FingerprintEpoch  int64      `gorm:"column:fingerprint_epoch"`
	CreatedAt         time.Time  `gorm:"column:created_at"`
	UpdatedAt         time.Time  `gorm:"column:updated_at"`
}

func (nodeRow) TableName() string { return "material_nodes" }

func toNode(r *nodeRow) *course.Node {
	n := &course.Node{
		ID: r.ID, TenantID: r.TenantID, ParentID: r.ParentID, Title: r.Title,
		Description: r.Description, LearningGoal: r.LearningGoal, Order: r.Order,
		Fingerprint: r.Fingerprint, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	n.ExpectedKnowledge = stringList(r.ExpectedKnowledge)
	n.ExpectedSkills = stringList(r.ExpectedSkills)
	return n
}

func stringList(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

// NodeStore implements course.NodeService. Every query filters tenant_id
// in its WHERE clause, so another tenant's node is simply not found.
type NodeStore struct {
	db   *DB
	jobs course.JobQueue
}

var _ course.NodeService = (*NodeStore)(nil)

// NewNodeStore returns a NodeStore on db; jobs enqueues the cleanup of the
// objects of deleted subtrees.
func NewNodeStore(db *DB, jobs course.JobQueue) *NodeStore { return &NodeStore{db: db, jobs: jobs} }

func errNodeNotFound() error { return course.Errorf(course.ENOTFOUND, "Node not found") }

// inTx runs fn in one transaction, with driver errors translated; a run
// PostgreSQL aborted as a deadlock victim or serialization failure is
// repeated, up to txAttempts runs in all (tx_retry.go).
func inTx(ctx context.Context, db *DB, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 1; attempt <= txAttempts; attempt++ {
		if err = db.Gorm.WithContext(ctx).Transaction(fn); !retryableTx(err) || ctx.Err() != nil {
			break
		}
	}
	return translate(err)
}

func (s *NodeStore) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return inTx(ctx, s.db, fn)
}

// takeOwned reads one row of the tenant by id; notFound is the domain
// error for an absent (or foreign) row.
func takeOwned[T any](tx *gorm.DB, tenantID, id uuid.UUID, notFound func() error) (*T, error) {
	var r T
	err := tx.Where("id = ? AND tenant_id = ?", id, tenantID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load %T: %w", r, err)
	}
	return &r, nil
}

// load reads one node of the tenant.
func load(tx *gorm.DB, tenantID, id uuid.UUID) (*nodeRow, error) {
	return takeOwned[nodeRow](tx, tenantID, id, errNodeNotFound)
}

// CreateNode appends a node under parent (or as the tenant's last root).
func (s *NodeStore) CreateNode(ctx context.Context, tenantID uuid.UUID, parent *uuid.UUID, title string, description *string) (*course.Node, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new node id: %w", err)
	}
	row := &nodeRow{ID: id, TenantID: tenantID, ParentID: parent, Title: title, Description: description}
	err = inTreeTx(ctx, s.db, tenantID, func(tx *gorm.DB) error {
		if parent != nil {
			if _, err := load(tx, tenantID, *parent); err != nil {
				return err
			}
		}
		if err := lockSiblings(tx, tenantID, parent); err != nil {
			return err
		}
		order, err := nextOrder(tx, tenantID, parent)
		if err != nil {
			return err
		}
		row.Order = order
		if err := tx.Omit("learning_goal", "expected_knowledge", "expected_skills", "created_at", "updated_at").
			Create(row).Error; err != nil {
			return fmt.Errorf("insert node: %w", err)
		}
		if parent != nil {
			return invalidateChain(tx, tenantID, *parent)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetNode(ctx, tenantID, id)
}

// UpdateNode applies a presence-sensitive patch; a real change invalidates
// the fingerprints of the node and its ancestors.
func (s *NodeStore) UpdateNode(ctx context.Context, tenantID, id uuid.UUID, upd course.NodeUpdate) (*course.Node, error) {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r, err := load(tx.Clauses(forUpdate()), tenantID, id)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		if upd.Title != nil && *upd.Title != r.Title {
			changes["title"] = *upd.Title
		}
		switch {
		case upd.ClearDescription && r.Description != nil:
			changes["description"] = nil
		case upd.Description != nil && (r.Description == nil || *r.Description != *upd.Description):
			changes["description"] = *upd.Description
		}
		if len(changes) == 0 {
			return nil
		}
		if err := tx.Model(&nodeRow{}).Where("id = ? AND tenant_id = ?", id, tenantID).Updates(changes).Error; err != nil {
			return fmt.Errorf("update node: %w", err)
		}
		return invalidateChain(tx, tenantID, id)
	})
	if err != nil {
		return nil, err
	}
	return s.GetNode(ctx, tenantID, id)
}

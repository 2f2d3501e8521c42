package course

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Node is an element of a tenant's material tree; a node without a parent
// is a root, which is a course.
type Node struct {
	ID                uuid.UUID
	TenantID          uuid.UUID
	ParentID          *uuid.UUID
	Title             string
	Description       *string
	LearningGoal      *string
	ExpectedKnowledge []string
	ExpectedSkills    []string
	Order             int
	Fingerprint       *string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Children          []*Node // filled by Tree only, each level by (order, id)
}

// NodeUpdate is a presence-sensitive patch: a nil field is left alone;
// ClearDescription sets the description to NULL.
type NodeUpdate struct {
	Title            *string
	Description      *string
	ClearDescription bool
}

// Node limits shared by the API validation and the store.
const (
	MaxTitleLen       = 500
	MaxDescriptionLen = 5000
)

// NodeService manages material trees. Every method is scoped to a tenant:
// another tenant's node is ENOTFOUND, never EFORBIDDEN.
type NodeService interface {
	// CreateNode appends a node as the last child of parent, or as the
	// tenant's last root when parent is nil. ENOTFOUND for an unknown parent.
	CreateNode(ctx context.Context, tenantID uuid.UUID, parent *uuid.UUID, title string, description *string) (*Node, error)
	// ListRoots pages the tenant's roots, newest first, with the total.
	ListRoots(ctx context.Context, tenantID uuid.UUID, limit, offset int) ([]*Node, int, error)
	// GetNode returns ENOTFOUND when absent.
	GetNode(ctx context.Context, tenantID, id uuid.UUID) (*Node, error)
	// UpdateNode applies a patch; ENOTFOUND when absent.
	UpdateNode(ctx context.Context, tenantID, id uuid.UUID, upd NodeUpdate) (*Node, error)
	// MoveNode re-parents a node (nil parent: becomes a root) as the last
	// sibling. ENOTFOUND for the node or target; EINVALID for its own
	// subtree.
	MoveNode(ctx context.Context, tenantID, id uuid.UUID, parent *uuid.UUID) (*Node, error)
	// ReorderNode moves a node to position min(order, n-1) among its
	// siblings and renumbers them 0..n-1.
	ReorderNode(ctx context.Context, tenantID, id uuid.UUID, order int) (*Node, error)
	// DeleteNode deletes the node and its subtree.
	DeleteNode(ctx context.Context, tenantID, id uuid.UUID) error
	// Tree returns the node with its whole subtree in Children.
	Tree(ctx context.Context, tenantID, id uuid.UUID) (*Node, error)
}

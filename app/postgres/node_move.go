package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// MoveNode re-parents a node as the last child of parent (nil: a root).
func (s *NodeStore) MoveNode(ctx context.Context, tenantID, id uuid.UUID, parent *uuid.UUID) (*course.Node, error) {
	err := inTreeTx(ctx, s.db, tenantID, func(tx *gorm.DB) error {
		r, err := load(tx, tenantID, id)
		if err != nil {
			return err
		}
		if parent != nil {
			if *parent == id {
				return course.Errorf(course.EINVALID, "Cannot move node to be its own parent")
			}
			if _, err := load(tx, tenantID, *parent); err != nil {
				return err
			}
			inside, err := inSubtree(tx, tenantID, id, *parent)
			if err != nil {
				return err
			}
			if inside {
				return course.Errorf(course.EINVALID, "Cannot move node %s under %s: would create a cycle", id, *parent)
			}
		}
		if samePtr(r.ParentID, parent) {
			return nil
		}
		if err := lockSiblings(tx, tenantID, r.ParentID, parent); err != nil {
			return err
		}
		order, err := nextOrder(tx, tenantID, parent)
		if err != nil {
			return err
		}
		if err := tx.Model(&nodeRow{}).Where("id = ? AND tenant_id = ?", id, tenantID).
			Updates(map[string]any{"parent_materialnode_id": parent, "order": order}).Error; err != nil {
			return fmt.Errorf("move node: %w", err)
		}
		if err := compact(tx, tenantID, r.ParentID); err != nil {
			return err
		}
		if r.ParentID != nil {
			if err := invalidateChain(tx, tenantID, *r.ParentID); err != nil {
				return err
			}
		}
		return invalidateChain(tx, tenantID, id)
	})
	if err != nil {
		return nil, err
	}
	return s.GetNode(ctx, tenantID, id)
}

// inSubtree reports whether target lies in the subtree rooted at root.
func inSubtree(tx *gorm.DB, tenantID, root, target uuid.UUID) (bool, error) {
	var found bool
	err := tx.Raw(`WITH RECURSIVE up AS (
			SELECT id, parent_materialnode_id FROM material_nodes WHERE id = ? AND tenant_id = ?
			UNION
			SELECT m.id, m.parent_materialnode_id FROM material_nodes m JOIN up ON m.id = up.parent_materialnode_id
		)
		SELECT EXISTS (SELECT 1 FROM up WHERE id = ?)`, target, tenantID, root).Scan(&found).Error
	if err != nil {
		return false, fmt.Errorf("check cycle: %w", err)
	}
	return found, nil
}

func samePtr(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// ReorderNode puts a node at min(order, n-1) among its siblings and
// renumbers them 0..n-1.
func (s *NodeStore) ReorderNode(ctx context.Context, tenantID, id uuid.UUID, order int) (*course.Node, error) {
	err := inTreeTx(ctx, s.db, tenantID, func(tx *gorm.DB) error {
		r, err := load(tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := lockSiblings(tx, tenantID, r.ParentID); err != nil {
			return err
		}
		ids, err := siblingIDs(tx, tenantID, r.ParentID)
		if err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(x uuid.UUID) bool { return x == id })
		pos := min(order, len(ids))
		ids = slices.Insert(ids, pos, id)
		if err := renumber(tx, tenantID, ids); err != nil {
			return err
		}
		if r.ParentID != nil {
			return invalidateChain(tx, tenantID, *r.ParentID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetNode(ctx, tenantID, id)
}

// DeleteNode removes the node; its subtree goes with it (ON DELETE CASCADE).
func (s *NodeStore) DeleteNode(ctx context.Context, tenantID, id uuid.UUID) error {
	return inTreeTx(ctx, s.db, tenantID, func(tx *gorm.DB) error {
		r, err := load(tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := lockSiblings(tx, tenantID, r.ParentID); err != nil {
			return err
		}
		keys, err := subtreeStorageKeys(tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := scheduleCleanup(ctx, tx, s.jobs, keys); err != nil {
			return err
		}
		if err := cancelSubtreeJobs(ctx, tx, s.jobs, tenantID, id); err != nil {
			return err
		}
		if err := tx.Where("id = ? AND tenant_id = ?", id, tenantID).Delete(&nodeRow{}).Error; err != nil {
			return fmt.Errorf("delete node: %w", err)
		}
		if err := compact(tx, tenantID, r.ParentID); err != nil {
			return err
		}
		if r.ParentID != nil {
			return invalidateChain(tx, tenantID, *r.ParentID)
		}
		return nil
	})
}

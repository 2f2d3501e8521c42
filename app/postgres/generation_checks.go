package postgres

import (
	"fmt"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// conflictCheck refuses a request whose scope overlaps an in-flight step
// of the same tree (docs/design/generation.md, "Conflicts"); the first
// matching rule names the reason. ancestors are the target's, nearest
// first; preorder is the target's subtree.
func conflictCheck(tx *gorm.DB, tenantID, rootID uuid.UUID, scope *uuid.UUID, ancestors []uuid.UUID, preorder []*treeNode) error {
	var scopes []struct{ Target *uuid.UUID }
	if err := tx.Raw(`SELECT (input_params ->> 'target_node_id')::uuid AS target FROM jobs
		WHERE tenant_id = ? AND job_type IN ('generate', 'reconcile', 'refine') AND status IN ('queued', 'active')
		  AND input_params ->> 'root_node_id' = ?
		ORDER BY queued_at, id`, tenantID, rootID.String()).Scan(&scopes).Error; err != nil {
		return fmt.Errorf("load in-flight steps: %w", err)
	}
	inSubtree := func(id uuid.UUID) bool {
		return slices.ContainsFunc(preorder, func(n *treeNode) bool { return n.ID == id })
	}
	for _, a := range scopes {
		reason := ""
		switch {
		case a.Target == nil && scope == nil:
			reason = "both target the entire tree"
		case a.Target == nil:
			reason = "active job covers entire tree"
		case scope == nil:
			reason = "new request covers entire tree"
		case *a.Target == *scope:
			reason = "both target the same node"
		case slices.Contains(ancestors, *a.Target):
			reason = "target is nested inside active job scope"
		case inSubtree(*a.Target):
			reason = "active job scope is nested inside target"
		default:
			continue // disjoint subtrees
		}
		return course.Errorf(course.ECONFLICT, "Generation conflict: %s", reason)
	}
	return nil
}

// materialCheck is the 422 of a subtree without (usable) materials;
// refine needs only some material.
func materialCheck(preorder []*treeNode, refine bool) error {
	any, usable := false, false
	for _, n := range preorder {
		for _, m := range n.materials {
			any = true
			usable = usable || usableState(toMaterial(m).State())
		}
	}
	switch {
	case !any:
		return course.Errorf(course.EINVALID, "No materials found in the target subtree.")
	case !usable && !refine:
		return course.Errorf(course.EINVALID, "No usable materials in the target subtree.")
	}
	return nil
}

func usableState(state string) bool {
	return state == course.StateReady || state == course.StatePending || state == course.StateRaw
}

package postgres

import (
	"fmt"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

func forUpdate() clause.Expression { return clause.Locking{Strength: "UPDATE"} }

// siblingLockKey is the id whose advisory lock serialises order changes
// among the children of parent (roots: the tenant).
func siblingLockKey(tenantID uuid.UUID, parent *uuid.UUID) uuid.UUID {
	if parent != nil {
		return *parent
	}
	return tenantID
}

// lockTree serialises structural changes of one tenant's tree (create,
// move, reorder, delete, material create): a cycle check or a parent read
// done before the lock could otherwise be stale by the time of the write,
// and two crossing moves could build a cycle. Recursive queries use UNION,
// so even a cycle could not make them run forever. Only inTreeTx calls it,
// after the writer's turn in the process (treegate.go).
func lockTree(tx *gorm.DB, tenantID uuid.UUID) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "tree:"+tenantID.String()).Error; err != nil {
		return fmt.Errorf("lock tree: %w", err)
	}
	return nil
}

// lockSiblings takes the transaction advisory locks of one or more sibling
// groups, in a stable order so two movers never deadlock.
func lockSiblings(tx *gorm.DB, tenantID uuid.UUID, parents ...*uuid.UUID) error {
	keys := make([]string, 0, len(parents))
	for _, p := range parents {
		keys = append(keys, siblingLockKey(tenantID, p).String())
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, k).Error; err != nil {
			return fmt.Errorf("lock siblings: %w", err)
		}
	}
	return nil
}

func siblingScope(tx *gorm.DB, tenantID uuid.UUID, parent *uuid.UUID) *gorm.DB {
	q := tx.Model(&nodeRow{}).Where("tenant_id = ?", tenantID)
	if parent == nil {
		return q.Where("parent_materialnode_id IS NULL")
	}
	return q.Where("parent_materialnode_id = ?", *parent)
}

// nextOrder is max(order)+1 among the siblings, 0 when there are none.
func nextOrder(tx *gorm.DB, tenantID uuid.UUID, parent *uuid.UUID) (int, error) {
	var next int
	if err := siblingScope(tx, tenantID, parent).Select(`COALESCE(MAX("order") + 1, 0)`).Scan(&next).Error; err != nil {
		return 0, fmt.Errorf("next order: %w", err)
	}
	return next, nil
}

// siblingIDs returns the ids of the siblings by (order, id).
func siblingIDs(tx *gorm.DB, tenantID uuid.UUID, parent *uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := siblingScope(tx, tenantID, parent).Order(`"order", id`).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("list siblings: %w", err)
	}
	return ids, nil
}

// renumber writes order = position for each id, touching only rows whose
// order changes.
func renumber(tx *gorm.DB, tenantID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	orders := make([]int, len(ids))
	strIDs := make([]string, len(ids))
	for i, id := range ids {
		orders[i] = i
		strIDs[i] = id.String()
	}
	err := tx.Exec(`UPDATE material_nodes m SET "order" = v.ord
		FROM unnest(?::uuid[], ?::int[]) AS v(id, ord)
		WHERE m.id = v.id AND m.tenant_id = ? AND m."order" <> v.ord`,
		pgArray(strIDs), pgIntArray(orders), tenantID).Error
	if err != nil {
		return fmt.Errorf("renumber siblings: %w", err)
	}
	return nil
}

// compact renumbers a sibling group 0..n-1 after a node left it.
func compact(tx *gorm.DB, tenantID uuid.UUID, parent *uuid.UUID) error {
	ids, err := siblingIDs(tx, tenantID, parent)
	if err != nil {
		return err
	}
	return renumber(tx, tenantID, ids)
}

// invalidateChain clears the cached fingerprint of a node and all its
// ancestors in one statement, bumping their epochs so a concurrent
// computation cannot write back a stale value.
func invalidateChain(tx *gorm.DB, tenantID, id uuid.UUID) error {
	err := tx.Exec(`WITH RECURSIVE chain AS (
			SELECT id, parent_materialnode_id FROM material_nodes WHERE id = ? AND tenant_id = ?
			UNION
			SELECT m.id, m.parent_materialnode_id FROM material_nodes m JOIN chain c ON m.id = c.parent_materialnode_id
		)
		UPDATE material_nodes SET node_fingerprint = NULL, fingerprint_epoch = fingerprint_epoch + 1
		WHERE id IN (SELECT id FROM chain) AND tenant_id = ?`, id, tenantID, tenantID).Error
	if err != nil {
		return fmt.Errorf("invalidate fingerprints: %w", err)
	}
	return nil
}

// pgArray renders a text array literal for a uuid[] cast.
func pgArray(items []string) string {
	out := "{"
	for i, s := range items {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out + "}"
}

func pgIntArray(items []int) string {
	out := "{"
	for i, n := range items {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprint(n)
	}
	return out + "}"
}

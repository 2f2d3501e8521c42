package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// readyMaterial is the SQL form of the derived state ready
// (docs/design/data-model.md, "Materials"): no error, no job in flight,
// processed, and processed from the bytes it was uploaded with.
const readyMaterial = `(COALESCE(error_message, '') = '' AND job_id IS NULL AND processed_content IS NOT NULL
	AND NOT (raw_hash IS NOT NULL AND processed_raw_hash IS DISTINCT FROM raw_hash))`

// fpNode is a node as the fingerprint reads it.
type fpNode struct {
	ID               uuid.UUID  `gorm:"column:id"`
	ParentID         *uuid.UUID `gorm:"column:parent_materialnode_id"`
	Title            string     `gorm:"column:title"`
	Description      *string    `gorm:"column:description"`
	Order            int        `gorm:"column:order"`
	Fingerprint      *string    `gorm:"column:node_fingerprint"`
	FingerprintEpoch int64      `gorm:"column:fingerprint_epoch"`
}

// Fingerprint returns the Merkle fingerprint of a node of the tenant
// (docs/design/data-model.md, "Fingerprint"), computing what is stale.
func (s *GenerationStore) Fingerprint(ctx context.Context, tenantID, id uuid.UUID) (string, error) {
	return fingerprint(s.db.Gorm.WithContext(ctx), tenantID, id)
}

// fingerprint computes fp(id) lazily, bottom-up: cached values are used
// as they are (an invalidation clears a node and all its ancestors, so a
// cached node has a valid subtree and is not descended into), stale nodes
// are computed and written back only if their epoch is still the one read,
// so a concurrent invalidation is never overwritten by a stale value.
func fingerprint(tx *gorm.DB, tenantID, id uuid.UUID) (string, error) {
	var nodes []fpNode
	if err := tx.Raw(`WITH RECURSIVE sub AS (
			SELECT id, parent_materialnode_id, title, description, "order", node_fingerprint, fingerprint_epoch
			FROM material_nodes WHERE id = ? AND tenant_id = ?
			UNION ALL
			SELECT m.id, m.parent_materialnode_id, m.title, m.description, m."order", m.node_fingerprint, m.fingerprint_epoch
			FROM material_nodes m JOIN sub ON m.parent_materialnode_id = sub.id
			WHERE sub.node_fingerprint IS NULL AND m.tenant_id = ?
		) SELECT * FROM sub`, id, tenantID, tenantID).Scan(&nodes).Error; err != nil {
		return "", fmt.Errorf("load fingerprint subtree: %w", err)
	}
	if len(nodes) == 0 {
		return "", errNodeNotFound()
	}
	if nodes[0].Fingerprint != nil {
		return *nodes[0].Fingerprint, nil
	}
	var stale []uuid.UUID
	children := map[uuid.UUID][]*fpNode{}
	for i := range nodes {
		n := &nodes[i]
		if n.Fingerprint == nil {
			stale = append(stale, n.ID)
		}
		if n.ParentID != nil && n.ID != id {
			children[*n.ParentID] = append(children[*n.ParentID], n)
		}
	}
	materials, err := readyHashes(tx, stale)
	if err != nil {
		return "", err
	}
	mappings, err := validatedMappingLines(tx, stale)
	if err != nil {
		return "", err
	}
	var compute func(n *fpNode) (string, error)
	compute = func(n *fpNode) (string, error) {
		if n.Fingerprint != nil {
			return *n.Fingerprint, nil
		}
		kids := children[n.ID]
		sort.Slice(kids, func(i, j int) bool {
			if kids[i].Order != kids[j].Order {
				return kids[i].Order < kids[j].Order
			}
			return kids[i].ID.String() < kids[j].ID.String()
		})
		var childFPs []string
		for _, k := range kids {
			fp, err := compute(k)
			if err != nil {
				return "", err
			}
			childFPs = append(childFPs, fp)
		}
		fp := FingerprintOf(n.Title, n.Description, materials[n.ID], mappings[n.ID], childFPs)
		if err := tx.Exec(`UPDATE material_nodes SET node_fingerprint = ? WHERE id = ? AND fingerprint_epoch = ?`,
			fp, n.ID, n.FingerprintEpoch).Error; err != nil {
			return "", fmt.Errorf("cache fingerprint: %w", err)
		}
		n.Fingerprint = &fp
		return fp, nil
	}
	return compute(&nodes[0])
}

// FingerprintOf is the fingerprint of one node from its parts: the
// SHA-256 hex of the lines "t:" + SHA-256(title \x1f description), one
// "m:<processed_hash>" per ready material, the "s:…" lines of validated
// mappings, and one "n:<fingerprint>" per child, each list already in
// its order, joined with "\n".
func FingerprintOf(title string, description *string, materialHashes, mappingLines, childFPs []string) string {
	desc := ""
	if description != nil {
		desc = *description
	}
	t := sha256.Sum256([]byte(title + "\x1f" + desc))
	lines := []string{"t:" + hex.EncodeToString(t[:])}
	for _, h := range materialHashes {
		lines = append(lines, "m:"+h)
	}
	lines = append(lines, mappingLines...)
	for _, c := range childFPs {
		lines = append(lines, "n:"+c)
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}

// readyHashes returns the processed hashes of the ready materials of each
// node, ordered by (order, id).
func readyHashes(tx *gorm.DB, nodeIDs []uuid.UUID) (map[uuid.UUID][]string, error) {
	var rows []struct {
		MaterialnodeID uuid.UUID
		ProcessedHash  string
	}
	if err := tx.Raw(`SELECT materialnode_id, processed_hash FROM material_entries
		WHERE materialnode_id IN ? AND processed_hash IS NOT NULL AND `+readyMaterial+`
		ORDER BY "order", id`, nodeIDs).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load material hashes: %w", err)
	}
	out := map[uuid.UUID][]string{}
	for _, r := range rows {
		out[r.MaterialnodeID] = append(out[r.MaterialnodeID], r.ProcessedHash)
	}
	return out, nil
}

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// LoadStep reads what a step needs when it starts
// (docs/design/generation.md, "Steps"): the fingerprint, the snapshot that
// already holds the step's idempotency key, or else the documents of the
// subtree (ranked), the outline and the related summaries.
func (s *GenerationStore) LoadStep(ctx context.Context, task *course.StepTask) (*course.StepInput, error) {
	db := s.db.Gorm.WithContext(ctx)
	root, preorder, err := subtree(db, task.TenantID, task.NodeID)
	if err != nil {
		return nil, err
	}
	var ready []*materialRow
	position := map[uuid.UUID]int{}
	for i, n := range preorder {
		position[n.ID] = i
		for _, m := range n.materials {
			if toMaterial(m).State() == course.StateReady {
				ready = append(ready, m)
			}
		}
	}
	if len(ready) == 0 {
		return nil, course.Errorf(course.EINVALID, course.MsgNoReadyMaterials)
	}
	fp, err := fingerprint(db, task.TenantID, task.NodeID)
	if err != nil {
		return nil, err
	}
	in := &course.StepInput{Fingerprint: fp, Ranking: course.RankingText,
		Target: course.ContextTarget{ID: root.ID.String(), Title: root.Title, Description: deref(root.Description)}}
	var existing []uuid.UUID
	if err := db.Raw(`SELECT id FROM structure_snapshots WHERE materialnode_id = ? AND node_fingerprint = ?
		AND mode = ? AND step_type = ?`, task.NodeID, fp, task.Mode, task.Step).Scan(&existing).Error; err != nil {
		return nil, fmt.Errorf("look up snapshot: %w", err)
	}
	if len(existing) > 0 {
		in.Existing = &existing[0]
		return in, nil
	}
	// Context order: source type, then node pre-order, then material order.
	slices.SortStableFunc(ready, func(a, b *materialRow) int {
		if d := slices.Index(course.SourceTypes, course.SourceType(a.SourceType)) -
			slices.Index(course.SourceTypes, course.SourceType(b.SourceType)); d != 0 {
			return d
		}
		return position[a.NodeID] - position[b.NodeID]
	})
	ids := make([]uuid.UUID, len(preorder))
	for i, n := range preorder {
		ids[i] = n.ID
	}
	if in.Documents, err = documents(db, task.TenantID, ready, ids, rankText(root)); err != nil {
		return nil, err
	}
	in.MaterialTree = []course.OutlineNode{outline(root)}
	return in, s.related(db, task, root, in)
}

// rankText is what chunks are ranked against: the node's title,
// description and child titles.
func rankText(root *treeNode) string {
	parts := []string{root.Title, deref(root.Description)}
	for _, c := range root.children {
		parts = append(parts, c.Title)
	}
	return strings.Join(parts, " ")
}

type chunkRow struct {
	ID              uuid.UUID `gorm:"column:id"`
	MaterialentryID uuid.UUID `gorm:"column:materialentry_id"`
	ChunkIndex      int       `gorm:"column:chunk_index"`
	ChunkType       string    `gorm:"column:chunk_type"`
	Text            string    `gorm:"column:text"`
	TokenCount      int       `gorm:"column:token_count"`
	Metadata        []byte    `gorm:"column:metadata"`
	Rank            float64   `gorm:"column:rank"`
}

// documents loads the chunks of the ready materials with their rank and
// the timecode references of presentation slides.
func documents(db *gorm.DB, tenantID uuid.UUID, ready []*materialRow, nodeIDs []uuid.UUID, query string) ([]course.RankedDocument, error) {
	mids := make([]uuid.UUID, len(ready))
	for i, m := range ready {
		mids[i] = m.ID
	}
	chunks, err := rankedChunks(db, tenantID, mids, query)
	if err != nil {
		return nil, err
	}
	var titles []struct {
		ID    uuid.UUID
		Title *string
	}
	if err := db.Raw(`SELECT id, processed_content::jsonb ->> 'title' AS title FROM material_entries WHERE id IN ?`,
		mids).Scan(&titles).Error; err != nil {
		return nil, fmt.Errorf("load document titles: %w", err)
	}
	titleOf := map[uuid.UUID]string{}
	for _, t := range titles {
		titleOf[t.ID] = deref(t.Title)
	}
	refs, err := timecodeRefs(db, nodeIDs)
	if err != nil {
		return nil, err
	}
	docs := make([]course.RankedDocument, 0, len(ready))
	for _, m := range ready {
		d := course.RankedDocument{MaterialID: m.ID.String(), SourceType: m.SourceType, Filename: deref(m.Filename),
			Title: titleOf[m.ID]}
		for _, c := range chunks[m.ID] {
			rc := course.RankedChunk{ID: c.ID, ContextChunk: course.ContextChunk{ChunkType: c.ChunkType, Text: c.Text, Index: c.ChunkIndex},
				Tokens: c.TokenCount, Rank: c.Rank}
			_ = json.Unmarshal(c.Metadata, &rc.Metadata)
			if sl := rc.Metadata.SlideNumber; sl != nil && m.SourceType == string(course.SourcePresentation) {
				rc.TimecodeRefs = refs[m.ID][*sl]
			}
			d.Chunks = append(d.Chunks, rc)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// rankedChunks loads the chunks of the materials in document order with
// their full-text rank against query (terms OR-ed) and their ids, by
// which the step re-ranks them by embedding similarity when embeddings
// are on (course.ApplyEmbeddingRank).
func rankedChunks(db *gorm.DB, tenantID uuid.UUID, mids []uuid.UUID, query string) (map[uuid.UUID][]chunkRow, error) {
	var rows []chunkRow
	if err := db.Raw(`SELECT id, materialentry_id, chunk_index, chunk_type, text, token_count, metadata,
			ts_rank(tsv, q) AS rank
		FROM material_chunks, (SELECT COALESCE(NULLIF(replace(plainto_tsquery('simple', ?)::text, ' & ', ' | '), ''),
			'')::tsquery AS q) query
		WHERE tenant_id = ? AND materialentry_id IN ? ORDER BY materialentry_id, chunk_index`,
		query, tenantID, mids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load chunks: %w", err)
	}
	out := map[uuid.UUID][]chunkRow{}
	for _, r := range rows {
		out[r.MaterialentryID] = append(out[r.MaterialentryID], r)
	}
	return out, nil
}

// outline is the material-tree outline: titles and ready filenames.
func outline(n *treeNode) course.OutlineNode {
	o := course.OutlineNode{NodeID: n.ID.String(), Title: n.Title}
	for _, m := range n.materials {
		if toMaterial(m).State() == course.StateReady {
			name := deref(m.Filename)
			if name == "" {
				name = m.SourceURL
			}
			o.Materials = append(o.Materials, name)
		}
	}
	for _, c := range n.children {
		o.Children = append(o.Children, outline(c))
	}
	return o
}

// related fills the summaries and the current structure a step's prompt
// uses (docs/design/generation.md, "Steps").
func (s *GenerationStore) related(db *gorm.DB, task *course.StepTask, root *treeNode, in *course.StepInput) error {
	if task.Step != course.StepRefine {
		kids := make([]*treeNode, len(root.children))
		copy(kids, root.children)
		sums, err := latestSummaries(db, kids, task.Mode)
		if err != nil {
			return err
		}
		in.ChildrenSummaries = sums
	}
	if task.Step == course.StepReconcile {
		var parent []treeNode
		if err := db.Raw(`SELECT p.id, p.title FROM material_nodes n JOIN material_nodes p ON p.id = n.parent_materialnode_id
			WHERE n.id = ?`, task.NodeID).Scan(&parent).Error; err != nil {
			return fmt.Errorf("load parent: %w", err)
		}
		if len(parent) == 1 {
			p, err := latestSummaries(db, []*treeNode{&parent[0]}, task.Mode)
			if err != nil {
				return err
			}
			if len(p) == 1 {
				in.ParentSummary = &p[0]
			}
			var siblings []*treeNode
			if err := db.Raw(`SELECT id, title FROM material_nodes WHERE parent_materialnode_id = ? AND id <> ?
				ORDER BY "order", id`, parent[0].ID, task.NodeID).Scan(&siblings).Error; err != nil {
				return fmt.Errorf("load siblings: %w", err)
			}
			if in.SiblingSummaries, err = latestSummaries(db, siblings, task.Mode); err != nil {
				return err
			}
		}
	}
	if task.Step == course.StepReconcile || task.Step == course.StepRefine {
		var cur [][]byte
		if err := db.Raw(`SELECT structure FROM structure_snapshots WHERE materialnode_id = ?
			ORDER BY (mode = ?) DESC, created_at DESC, id DESC LIMIT 1`, task.NodeID, task.Mode).Scan(&cur).Error; err != nil {
			return fmt.Errorf("load current structure: %w", err)
		}
		if len(cur) == 1 {
			in.CurrentStructure = cur[0]
		}
	}
	return nil
}

// latestSummaries returns, in the order of nodes, the newest non-null
// summary of each (same mode preferred); nodes without one are skipped.
func latestSummaries(db *gorm.DB, nodes []*treeNode, mode string) ([]course.NodeSummary, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	var rows []struct {
		MaterialnodeID uuid.UUID
		Summary        string
		CoreConcepts   []byte
	}
	if err := db.Raw(`SELECT DISTINCT ON (materialnode_id) materialnode_id, summary, core_concepts
		FROM structure_snapshots WHERE materialnode_id IN ? AND summary IS NOT NULL
		ORDER BY materialnode_id, (mode = ?) DESC, created_at DESC, id DESC`, ids, mode).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load summaries: %w", err)
	}
	var out []course.NodeSummary
	for _, n := range nodes {
		for _, r := range rows {
			if r.MaterialnodeID == n.ID {
				out = append(out, course.NodeSummary{NodeID: n.ID.String(), Title: n.Title, Summary: r.Summary,
					CoreConcepts: stringList(r.CoreConcepts)})
			}
		}
	}
	return out, nil
}

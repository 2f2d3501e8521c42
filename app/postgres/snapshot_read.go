package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// snapshotRow is a structure_snapshots row with its audited call.
type snapshotRow struct {
	ID                uuid.UUID  `gorm:"column:id"`
	NodeID            uuid.UUID  `gorm:"column:materialnode_id"`
	JobID             *uuid.UUID `gorm:"column:job_id"`
	CallID            *uuid.UUID `gorm:"column:externalservicecall_id"`
	Fingerprint       string     `gorm:"column:node_fingerprint"`
	Mode              string     `gorm:"column:mode"`
	StepType          string     `gorm:"column:step_type"`
	Structure         []byte     `gorm:"column:structure"`
	Summary           *string    `gorm:"column:summary"`
	CoreConcepts      []byte     `gorm:"column:core_concepts"`
	MentionedConcepts []byte     `gorm:"column:mentioned_concepts"`
	Corrections       []byte     `gorm:"column:corrections"`
	CreatedAt         time.Time  `gorm:"column:created_at"`
	CallProvider      *string    `gorm:"column:call_provider"`
	CallModel         *string    `gorm:"column:call_model"`
	CallPrompt        *string    `gorm:"column:call_prompt"`
	CallIn            *int64     `gorm:"column:call_in"`
	CallOut           *int64     `gorm:"column:call_out"`
	CallCost          *float64   `gorm:"column:call_cost"`
}

const snapshotSelect = `SELECT s.id, s.materialnode_id, s.job_id, s.externalservicecall_id, s.node_fingerprint, s.mode,
	s.step_type, s.structure, s.summary, s.core_concepts, s.mentioned_concepts, s.corrections, s.created_at,
	c.provider AS call_provider, c.model_id AS call_model, c.prompt_ref AS call_prompt, c.unit_in AS call_in,
	c.unit_out AS call_out, c.cost_usd::float8 AS call_cost
	FROM structure_snapshots s LEFT JOIN external_service_calls c ON c.id = s.externalservicecall_id `

func toSnapshot(r *snapshotRow) *course.Snapshot {
	s := &course.Snapshot{ID: r.ID, NodeID: r.NodeID, JobID: r.JobID, CallID: r.CallID, Fingerprint: r.Fingerprint,
		Mode: r.Mode, StepType: r.StepType, Structure: json.RawMessage(r.Structure), Summary: r.Summary,
		CoreConcepts: stringList(r.CoreConcepts), MentionedConcepts: stringList(r.MentionedConcepts),
		CreatedAt: r.CreatedAt.UTC()}
	if len(r.Corrections) > 0 {
		_ = json.Unmarshal(r.Corrections, &s.Corrections)
	}
	if r.CallID != nil && r.CallProvider != nil {
		s.Call = &course.SnapshotCall{ID: *r.CallID, Provider: *r.CallProvider, ModelID: deref(r.CallModel),
			PromptRef: r.CallPrompt, UnitIn: r.CallIn, UnitOut: r.CallOut, CostUSD: r.CallCost}
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func errNoSnapshot() error { return course.Errorf(course.ENOTFOUND, "No structure snapshot found.") }

func errSnapshotNotFound() error { return course.Errorf(course.ENOTFOUND, "Snapshot not found.") }

// LatestSnapshot returns the node's newest snapshot (of mode, if set).
func (s *GenerationStore) LatestSnapshot(ctx context.Context, tenantID, nodeID uuid.UUID, mode string) (*course.Snapshot, error) {
	db := s.db.Gorm.WithContext(ctx)
	if _, err := load(db, tenantID, nodeID); err != nil {
		return nil, err
	}
	q := snapshotSelect + `WHERE s.materialnode_id = ?`
	args := []any{nodeID}
	if mode != "" {
		q += ` AND s.mode = ?`
		args = append(args, mode)
	}
	return s.detail(db, q+` ORDER BY s.created_at DESC, s.id DESC LIMIT 1`, errNoSnapshot, args...)
}

// GetSnapshot returns one snapshot of the node.
func (s *GenerationStore) GetSnapshot(ctx context.Context, tenantID, nodeID, snapshotID uuid.UUID) (*course.Snapshot, error) {
	db := s.db.Gorm.WithContext(ctx)
	if _, err := load(db, tenantID, nodeID); err != nil {
		return nil, err
	}
	return s.detail(db, snapshotSelect+`WHERE s.id = ? AND s.materialnode_id = ?`, errSnapshotNotFound, snapshotID, nodeID)
}

func (s *GenerationStore) detail(db *gorm.DB, q string, notFound func() error, args ...any) (*course.Snapshot, error) {
	var rows []snapshotRow
	if err := db.Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load snapshot: %w", err)
	}
	if len(rows) == 0 {
		return nil, notFound()
	}
	snap := toSnapshot(&rows[0])
	tree, err := structureTree(db, snap.ID)
	if err != nil {
		return nil, err
	}
	snap.Tree = tree
	return snap, nil
}

// SnapshotHistory pages the node's snapshots, newest first.
func (s *GenerationStore) SnapshotHistory(ctx context.Context, tenantID, nodeID uuid.UUID, limit, offset int) ([]*course.Snapshot, int, error) {
	db := s.db.Gorm.WithContext(ctx)
	if _, err := load(db, tenantID, nodeID); err != nil {
		return nil, 0, err
	}
	var total int64
	if err := db.Raw(`SELECT count(*) FROM structure_snapshots WHERE materialnode_id = ?`, nodeID).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count snapshots: %w", err)
	}
	var rows []snapshotRow
	if err := db.Raw(snapshotSelect+`WHERE s.materialnode_id = ? ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?`,
		nodeID, limit, offset).Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("list snapshots: %w", err)
	}
	out := make([]*course.Snapshot, len(rows))
	for i := range rows {
		out[i] = toSnapshot(&rows[i])
	}
	return out, int(total), nil
}

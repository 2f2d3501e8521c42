package course

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Generation modes (docs/design/generation.md).
const (
	ModeFree   = "free"
	ModeGuided = "guided"
)

// Generation step types: the job types that run on the generation queue.
// A step's type is part of its idempotency key.
const (
	StepGenerate  = JobGenerate
	StepReconcile = JobReconcile
	StepRefine    = JobRefine
)

// MsgNoReadyMaterials is the permanent failure of a step whose subtree
// has no ready material left when it starts.
const MsgNoReadyMaterials = "No READY materials found for generation"

// GenerationPlan is what a generate or refine request scheduled: the jobs
// by role, how many model calls the plan may make at most, and the
// mappings of the subtree that will not contribute (api #21, #22).
type GenerationPlan struct {
	Generation        []*JobReport // post-order (refine: the refine job)
	Reconciliation    []*JobReport // pre-order (refine: ancestors bottom-up)
	Ingestion         []*JobReport // new and in-flight ingest jobs, each once
	EstimatedLLMCalls int
	MappingWarnings   []MappingWarning
}

// GenerationService plans generation: both methods run the conflict
// check and the material checks under the tree root's lock and insert the
// plan's jobs in one transaction.
type GenerationService interface {
	Generate(ctx context.Context, tenantID, nodeID uuid.UUID, mode string) (*GenerationPlan, error)
	Refine(ctx context.Context, tenantID, nodeID uuid.UUID, mode string) (*GenerationPlan, error)
}

// Snapshot is one step's structure of one node.
type Snapshot struct {
	ID                uuid.UUID
	NodeID            uuid.UUID
	JobID             *uuid.UUID
	CallID            *uuid.UUID
	Fingerprint       string
	Mode              string
	StepType          string
	Structure         json.RawMessage
	Summary           *string
	CoreConcepts      []string
	MentionedConcepts []string
	Corrections       []Correction
	Call              *SnapshotCall
	CreatedAt         time.Time
	// Tree is the flattened outline (modules at the top); only filled by
	// the detail reads.
	Tree []*StructureNode
}

// SnapshotCall is the audited model call that produced a snapshot.
type SnapshotCall struct {
	ID        uuid.UUID
	Provider  string
	ModelID   string
	PromptRef *string
	UnitIn    *int64
	UnitOut   *int64
	CostUSD   *float64
}

// StructureNode is one element of a flattened structure. The JSON fields
// keep the stored shape ([{summary, details}], [{start, end}], …).
type StructureNode struct {
	ID                 uuid.UUID
	NodeType           string // module, lesson, concept, exercise
	Order              int
	Title              string
	Description        *string
	LearningGoal       *string
	SuccessCriteria    *string
	Difficulty         *string
	EstimatedDuration  *int
	AssessmentMethod   *string
	TeachingStrategy   *string
	TeachingStyle      *string
	ExpectedKnowledge  json.RawMessage
	ExpectedSkills     json.RawMessage
	Prerequisites      json.RawMessage
	Competencies       json.RawMessage
	KeyConcepts        json.RawMessage
	CommonMistakes     json.RawMessage
	Activities         json.RawMessage
	DeepDiveReferences json.RawMessage
	Timecodes          json.RawMessage
	SlideReferences    json.RawMessage
	WebReferences      json.RawMessage
	Children           []*StructureNode
}

// StructureService reads snapshots of the tenant's nodes. A foreign or
// unknown node is ENOTFOUND "Node not found".
type StructureService interface {
	// LatestSnapshot is the newest snapshot (by created_at, id), of mode
	// when it is not empty; ENOTFOUND "No structure snapshot found.".
	LatestSnapshot(ctx context.Context, tenantID, nodeID uuid.UUID, mode string) (*Snapshot, error)
	// SnapshotHistory pages the node's snapshots, newest first.
	SnapshotHistory(ctx context.Context, tenantID, nodeID uuid.UUID, limit, offset int) ([]*Snapshot, int, error)
	// GetSnapshot reads one snapshot of the node; ENOTFOUND
	// "Snapshot not found." also when it belongs to another node.
	GetSnapshot(ctx context.Context, tenantID, nodeID, snapshotID uuid.UUID) (*Snapshot, error)
}

package course

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// StepTask is a generation step (generate, reconcile, refine) the start
// guard admitted: the job, now active, and what it works on.
type StepTask struct {
	Job      *Job
	TenantID uuid.UUID
	NodeID   uuid.UUID
	RootID   uuid.UUID
	Mode     string
	Step     string
}

// StepInput is what a step reads when it starts (docs/design/generation.md,
// "Steps"): the node's fingerprint, the snapshot that already has the
// step's idempotency key (then no model is called), and the material of
// the context.
type StepInput struct {
	Fingerprint string
	Existing    *uuid.UUID
	Target      ContextTarget
	// Documents are the ready materials of the subtree in context order,
	// every chunk with its token estimate and rank.
	Documents         []RankedDocument
	MaterialTree      []OutlineNode
	ChildrenSummaries []NodeSummary
	ParentSummary     *NodeSummary
	SiblingSummaries  []NodeSummary
	// CurrentStructure is the node's latest structure (reconcile, refine).
	CurrentStructure json.RawMessage
	// Ranking says what the chunks' Rank came from (RankingText or
	// RankingEmbedding), so the step can report which ranking chose a
	// truncated context.
	Ranking string
}

// Rankings of a step's chunks (docs/design/search.md, "Generation context").
const (
	RankingText      = "text"      // PostgreSQL full-text rank against the node's query text
	RankingEmbedding = "embedding" // cosine similarity to the embedded query text, text rank after
)

// RankedDocument is a ready material with all its chunks.
type RankedDocument struct {
	MaterialID string
	SourceType string
	Filename   string
	Title      string
	Chunks     []RankedChunk
}

// RankedChunk is a chunk with its token estimate and its relevance to the
// node (higher first; ties keep document order).
type RankedChunk struct {
	ContextChunk
	ID     uuid.UUID // material_chunks.id: matches the embedding ranking
	Tokens int
	Rank   float64
}

// StepResult is what a step stores: either the snapshot it reuses, or the
// structure a model returned with the audited call that produced it.
type StepResult struct {
	Fingerprint string
	Reused      *uuid.UUID
	Structure   json.RawMessage
	Parsed      *Structure
	CallID      *uuid.UUID
}

// StepLifecycle is the state machine side of generation steps, driven by
// the generation worker; the failure transitions are JobLifecycle's.
type StepLifecycle interface {
	// StartStep runs the start guard; a node deleted meanwhile cancels
	// the job (StartGone).
	StartStep(ctx context.Context, id uuid.UUID) (JobStart, *StepTask, error)
	// LoadStep computes the node's fingerprint and reads the step's
	// input. A subtree without ready material is EINVALID
	// MsgNoReadyMaterials (a permanent failure).
	LoadStep(ctx context.Context, task *StepTask) (*StepInput, error)
	// CompleteStep stores the snapshot and its flattened structure (or
	// links the reused one), completes the job, releases its dependents
	// and, through done, completes the queue record: one transaction.
	CompleteStep(ctx context.Context, id uuid.UUID, res *StepResult, done QueueDone) error
	RequeueJob(ctx context.Context, id uuid.UUID, msg string, next time.Time) error
	InterruptJob(ctx context.Context, id uuid.UUID, next time.Time) error
	FailJob(ctx context.Context, id uuid.UUID, msg string) error
}

package course

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Slide–video mappings say "slide N of this deck is shown at 12:30 of that
// video"; generation turns them into timecodes on slides
// (docs/design/mappings.md). The checks live in mapping_check.go.

// Mapping validation states.
const (
	// MappingPending: a referenced material is not ready; its checks run
	// again when it is.
	MappingPending = "pending_validation"
	// MappingValidated: every check passed.
	MappingValidated = "validated"
	// MappingFailed: a content check failed after the mapping was stored;
	// the row is kept and shown as a warning.
	MappingFailed = "validation_failed"
)

// Blocker types.
const (
	BlockerNotReady = "material_not_ready"
	BlockerError    = "material_error"
)

// MaxMappingsPerRequest bounds one POST; the API schema says the same.
const MaxMappingsPerRequest = 500

// CheckBatchSize refuses an empty or oversized batch (EINVALID), so the
// bound holds for every caller, not only behind the API's schema.
func CheckBatchSize(n int) error {
	if n < 1 || n > MaxMappingsPerRequest {
		return Errorf(EINVALID, "Submit 1 to %d mappings per request", MaxMappingsPerRequest)
	}
	return nil
}

// Texts of a batch response.
const (
	MappingSkipHint     = "already exists"
	MappingResubmitHint = "Fix the rejected items and resubmit only those; created and skipped items are kept."
)

// MappingBlocker is a referenced material that is not ready, and the checks
// that wait for it.
type MappingBlocker struct {
	Type          string // BlockerNotReady or BlockerError
	MaterialID    uuid.UUID
	Filename      *string
	MaterialState string
	Message       string
	BlockedChecks []string
}

// MappingError is one failed check of one field, with a hint how to fix it.
type MappingError struct {
	Field   string
	Message string
	Hint    string
}

// Mapping is a stored slide–video mapping.
type Mapping struct {
	ID             uuid.UUID
	NodeID         uuid.UUID
	PresentationID uuid.UUID
	VideoID        uuid.UUID
	SlideNumber    int
	Start          string // as submitted
	StartSec       int
	End            *string
	EndSec         *int
	State          string
	Blockers       []MappingBlocker
	Errors         []MappingError
	ValidatedAt    *time.Time
	CreatedAt      time.Time
}

// MappingKey is the natural key that deduplicates mappings within a node.
type MappingKey struct {
	PresentationID, VideoID uuid.UUID
	SlideNumber, StartSec   int
}

// Key returns the mapping's natural key.
func (m *Mapping) Key() MappingKey {
	return MappingKey{PresentationID: m.PresentationID, VideoID: m.VideoID, SlideNumber: m.SlideNumber, StartSec: m.StartSec}
}

// MappingEntry is one submitted item. The ids are strings so a bad id is
// an error of that item, not of the request.
type MappingEntry struct {
	PresentationID string
	VideoID        string
	SlideNumber    int
	Start          string
	End            *string
}

// MappingSkip is an item that was not stored because it already exists.
type MappingSkip struct {
	Index int
	Hint  string
}

// MappingRejection is an item that failed a structural or content check.
type MappingRejection struct {
	Index  int
	Errors []MappingError
}

// MappingBatch is the outcome of one POST: every item is created, skipped
// or rejected, independently of the others.
type MappingBatch struct {
	Created  []*Mapping
	Skipped  []MappingSkip
	Rejected []MappingRejection
}

// BatchOutcome classifies a batch for its response status.
type BatchOutcome int

// Batch outcomes.
const (
	// BatchAccepted: nothing rejected (some created, or all skipped).
	BatchAccepted BatchOutcome = iota
	// BatchPartial: some created, some rejected.
	BatchPartial
	// BatchRejected: nothing created, some rejected.
	BatchRejected
)

// Outcome is the rule of docs/design/mappings.md, "Status".
func (b *MappingBatch) Outcome() BatchOutcome {
	switch {
	case len(b.Rejected) == 0:
		return BatchAccepted
	case len(b.Created) > 0:
		return BatchPartial
	}
	return BatchRejected
}

// MappingWarning is a mapping that generation cannot use (yet): pending
// validation or failed.
type MappingWarning struct {
	MappingID   uuid.UUID
	NodeID      uuid.UUID
	SlideNumber int
	State       string
}

// MappingService stores mappings. Every method is tenant-scoped: another
// tenant's node is ENOTFOUND "Node not found", another tenant's mapping
// ENOTFOUND "Mapping not found".
type MappingService interface {
	// CreateMappings checks and stores up to MaxMappingsPerRequest entries
	// on a node; ENOTFOUND for the node. Item failures are in the batch,
	// not errors.
	CreateMappings(ctx context.Context, tenantID, nodeID uuid.UUID, entries []MappingEntry) (*MappingBatch, error)
	// ListMappings lists a node's mappings by (slide_number, created_at).
	ListMappings(ctx context.Context, tenantID, nodeID uuid.UUID) ([]*Mapping, error)
	// DeleteMapping removes a mapping and invalidates its node's
	// fingerprint chain.
	DeleteMapping(ctx context.Context, tenantID, id uuid.UUID) error
	// MappingWarnings returns the unusable mappings of the nodes, keyed by
	// node.
	MappingWarnings(ctx context.Context, tenantID uuid.UUID, nodeIDs []uuid.UUID) (map[uuid.UUID][]MappingWarning, error)
}

// TimecodeRef points a slide at a stretch of a video.
type TimecodeRef struct {
	VideoMaterialID uuid.UUID
	Start           string
	StartSec        int
	End             *string
	EndSec          *int
}

// SlideChunk is a chunk of a presentation with the video stretches its
// slide is shown in.
type SlideChunk struct {
	Chunk
	SlideNumber  int // 0 when the chunk names no slide
	TimecodeRefs []TimecodeRef
}

// SlideTimecodes gives generation the presentation chunks with their
// timecodes (docs/design/mappings.md, "Generation").
type SlideTimecodes interface {
	// PresentationChunks returns, per presentation, its chunks in order,
	// each with the refs of the validated mappings of its slide.
	PresentationChunks(ctx context.Context, tenantID uuid.UUID, materialIDs []uuid.UUID) (map[uuid.UUID][]SlideChunk, error)
}

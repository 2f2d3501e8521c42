package course

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Derived material states (never stored).
const (
	StateError           = "error"
	StatePending         = "pending"
	StateRaw             = "raw"
	StateIntegrityBroken = "integrity_broken"
	StateReady           = "ready"
)

// Material is one source attached to a node: a stored file or a URL.
type Material struct {
	ID               uuid.UUID
	TenantID         uuid.UUID
	NodeID           uuid.UUID
	SourceType       SourceType
	Order            int
	SourceURL        string
	StorageKey       *string
	Filename         *string
	ContentType      *string
	RawHash          *string
	RawSize          *int64
	RawETag          *string // the stored object's ETag at confirmation (presigned uploads)
	ProcessedRawHash *string
	ProcessedHash    *string
	ProcessedContent *string
	ProcessedAt      *time.Time
	JobID            *uuid.UUID
	PendingSince     *time.Time
	ErrorMessage     *string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// State derives the state from the columns; the first matching rule wins.
func (m *Material) State() string {
	switch {
	case m.ErrorMessage != nil && *m.ErrorMessage != "":
		return StateError
	case m.JobID != nil:
		return StatePending
	case m.ProcessedContent == nil:
		return StateRaw
	case m.RawHash != nil && (m.ProcessedRawHash == nil || *m.ProcessedRawHash != *m.RawHash):
		return StateIntegrityBroken
	}
	return StateReady
}

// NewMaterial is the input of MaterialService.CreateMaterial.
type NewMaterial struct {
	NodeID      uuid.UUID
	SourceType  SourceType
	SourceURL   string  // the external URL, or the object URL of a stored file
	StorageKey  *string // stored files only
	Filename    *string
	ContentType *string
	RawHash     *string
	RawSize     *int64
	RawETag     *string
}

// MaterialService stores materials. Every method is tenant-scoped: another
// tenant's material or node is ENOTFOUND.
type MaterialService interface {
	// CreateMaterial appends a material to its node (ENOTFOUND for an
	// unknown node; ECONFLICT when the storage key is already used).
	CreateMaterial(ctx context.Context, tenantID uuid.UUID, in NewMaterial) (*Material, error)
	// ListMaterials lists a node's materials by (order, created_at).
	ListMaterials(ctx context.Context, tenantID, nodeID uuid.UUID) ([]*Material, error)
	// MaterialsOf returns the materials of many nodes, keyed by node.
	MaterialsOf(ctx context.Context, tenantID uuid.UUID, nodeIDs []uuid.UUID) (map[uuid.UUID][]*Material, error)
	GetMaterial(ctx context.Context, tenantID, id uuid.UUID) (*Material, error)
	// DeleteMaterial removes the row and, in the same transaction,
	// schedules its object for deletion.
	DeleteMaterial(ctx context.Context, tenantID, id uuid.UUID) error
	// RetryMaterial restarts ingestion of a material in state error or
	// integrity_broken; ECONFLICT otherwise.
	RetryMaterial(ctx context.Context, tenantID, id uuid.UUID) (*Material, error)
	// StorageKeyUsed reports whether a material already points at key.
	StorageKeyUsed(ctx context.Context, key string) (bool, error)
	// DeleteStoredFile removes the caller's material for key, if any, and
	// schedules the object's deletion either way.
	DeleteStoredFile(ctx context.Context, tenantID uuid.UUID, key string) error
	// ScheduleObjectDeletion records keys to delete (failed uploads whose
	// inline cleanup failed).
	ScheduleObjectDeletion(ctx context.Context, keys []string) error
}

package course

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Job types.
const (
	JobIngest    = "ingest"
	JobGenerate  = "generate"
	JobReconcile = "reconcile"
	JobRefine    = "refine"
	JobEmbed     = "embed"
)

// Job statuses: the client contract. complete, failed and cancelled are
// final; a job waiting for dependencies is queued without a queue record.
const (
	JobQueued    = "queued"
	JobActive    = "active"
	JobComplete  = "complete"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Job priorities: API-created jobs are normal; immediate bypasses the
// heavy-work window.
const (
	PriorityNormal    = "normal"
	PriorityImmediate = "immediate"
)

// Job is a unit of background work a client can follow.
type Job struct {
	ID           uuid.UUID
	TenantID     *uuid.UUID
	NodeID       *uuid.UUID
	MaterialID   *uuid.UUID
	Type         string
	Priority     string
	Status       string
	ErrorMessage *string
	Attempt      int
	MaxAttempts  int
	SnapshotID   *uuid.UUID
	DependsOn    []uuid.UUID
	QueuedAt     time.Time
	StartedAt    *time.Time
	CompletedAt  *time.Time
	EstimatedAt  *time.Time
}

// Final reports whether the job can no longer change.
func (j *Job) Final() bool {
	return j.Status == JobComplete || j.Status == JobFailed || j.Status == JobCancelled
}

// JobReport is a job as clients follow it: the job and the id of its
// queue record, which operators use to find it in the queue (nil while
// the job waits for dependencies).
type JobReport struct {
	Job
	QueueRef *QueueRef
}

// JobService reads jobs; jobs are created by the services whose state
// changes need them, in the same transaction.
type JobService interface {
	// GetJob returns one job of the tenant; ENOTFOUND ("Job not found")
	// for an unknown or foreign job.
	GetJob(ctx context.Context, tenantID, id uuid.UUID) (*JobReport, error)
}

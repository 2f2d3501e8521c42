package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// jobRow is the jobs row.
type jobRow struct {
	ID           uuid.UUID  `gorm:"column:id;primaryKey"`
	TenantID     *uuid.UUID `gorm:"column:tenant_id"`
	NodeID       *uuid.UUID `gorm:"column:materialnode_id"`
	MaterialID   *uuid.UUID `gorm:"column:materialentry_id"`
	Type         string     `gorm:"column:job_type"`
	Priority     string     `gorm:"column:priority"`
	Status       string     `gorm:"column:status"`
	QueueJobID   *int64     `gorm:"column:queue_job_id"`
	InputParams  []byte     `gorm:"column:input_params;type:jsonb"`
	ErrorMessage *string    `gorm:"column:error_message"`
	Attempt      int        `gorm:"column:attempt"`
	MaxAttempts  int        `gorm:"column:max_attempts"`
	SnapshotID   *uuid.UUID `gorm:"column:result_snapshot_id"`
	QueuedAt     time.Time  `gorm:"column:queued_at"`
	StartedAt    *time.Time `gorm:"column:started_at"`
	CompletedAt  *time.Time `gorm:"column:completed_at"`
	EstimatedAt  *time.Time `gorm:"column:estimated_at"`
	UpdatedAt    time.Time  `gorm:"column:updated_at"`
}

func (jobRow) TableName() string { return "jobs" }

func toJob(r *jobRow, deps []uuid.UUID) *course.Job {
	return &course.Job{
		ID: r.ID, TenantID: r.TenantID, NodeID: r.NodeID, MaterialID: r.MaterialID,
		Type: r.Type, Priority: r.Priority, Status: r.Status,
		ErrorMessage: r.ErrorMessage, Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		SnapshotID: r.SnapshotID, DependsOn: deps, QueuedAt: r.QueuedAt.UTC(),
		StartedAt: utc(r.StartedAt), CompletedAt: utc(r.CompletedAt), EstimatedAt: utc(r.EstimatedAt),
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// JobStore implements course.JobService and the job state machine the
// workers drive (course.JobLifecycle; docs/design/jobs.md).
type JobStore struct {
	db   *DB
	jobs course.JobQueue
	// embedModel is the current embedding model ("" = embeddings off).
	embedModel string
}

var (
	_ course.JobService   = (*JobStore)(nil)
	_ course.JobLifecycle = (*JobStore)(nil)
	_ course.JobReaper    = (*JobStore)(nil)
)

// NewJobStore returns a JobStore; jobs inserts and cancels queue records.
func NewJobStore(db *DB, jobs course.JobQueue) *JobStore { return &JobStore{db: db, jobs: jobs} }

func errJobNotFound() error { return course.Errorf(course.ENOTFOUND, "Job not found") }

// GetJob returns one job of the tenant with its dependencies.
func (s *JobStore) GetJob(ctx context.Context, tenantID, id uuid.UUID) (*course.JobReport, error) {
	db := s.db.Gorm.WithContext(ctx)
	var r jobRow
	err := db.Where("id = ? AND tenant_id = ?", id, tenantID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errJobNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load job: %w", err)
	}
	deps, err := dependencies(db, id)
	if err != nil {
		return nil, err
	}
	rep := &course.JobReport{Job: *toJob(&r, deps)}
	if r.QueueJobID != nil {
		ref := course.QueueRef(*r.QueueJobID)
		rep.QueueRef = &ref
	}
	return rep, nil
}

func dependencies(tx *gorm.DB, id uuid.UUID) ([]uuid.UUID, error) {
	deps := []uuid.UUID{}
	if err := tx.Raw(`SELECT depends_on_job_id FROM job_dependencies WHERE job_id = ? ORDER BY depends_on_job_id`,
		id).Scan(&deps).Error; err != nil {
		return nil, fmt.Errorf("load job dependencies: %w", err)
	}
	return deps, nil
}

// ingestParams are the input_params of an ingest job.
type ingestParams struct {
	MaterialID uuid.UUID `json:"material_id"`
	SourceType string    `json:"source_type"`
	SourceURL  string    `json:"source_url"`
	RequestID  string    `json:"request_id,omitempty"`
}

// insertIngestJob creates the ingest job of material m and its queue
// record in tx, and marks the material pending: all in the caller's
// transaction, so either everything commits or nothing does.
func insertIngestJob(ctx context.Context, tx *gorm.DB, jobs course.JobQueue, m *materialRow) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new job id: %w", err)
	}
	params, err := json.Marshal(ingestParams{MaterialID: m.ID, SourceType: m.SourceType,
		SourceURL: m.SourceURL, RequestID: course.RequestIDFrom(ctx)})
	if err != nil {
		return fmt.Errorf("encode job params: %w", err)
	}
	tenant, node, material := m.TenantID, m.NodeID, m.ID
	row := &jobRow{ID: id, TenantID: &tenant, NodeID: &node, MaterialID: &material, Type: course.JobIngest,
		Priority: course.PriorityNormal, Status: course.JobQueued, InputParams: params, MaxAttempts: jobs.MaxAttempts()}
	if err := tx.Omit("queued_at", "updated_at").Create(row).Error; err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	if _, err := schedule(ctx, tx, jobs, row); err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE material_entries SET job_id = ?, pending_since = now() WHERE id = ?`, id, m.ID).Error; err != nil {
		return fmt.Errorf("mark material pending: %w", err)
	}
	return nil
}

// schedule gives job r its queue record in tx and links it; false when the
// queue has no worker for the job's type yet, so it stays waiting.
func schedule(ctx context.Context, tx *gorm.DB, jobs course.JobQueue, r *jobRow) (bool, error) {
	if jobs == nil {
		return false, nil
	}
	if free, err := slotFree(tx, jobs, r); err != nil || !free {
		return false, err // the tenant's slots are taken: it waits
	}
	t, err := txOf(tx)
	if err != nil {
		return false, err
	}
	ticket, err := jobs.Schedule(ctx, t, toJob(r, nil))
	if errors.Is(err, course.ErrNotQueueable) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := tx.Exec(`UPDATE jobs SET queue_job_id = ?, estimated_at = ? WHERE id = ?`,
		int64(ticket.Ref), ticket.DeferredUntil, r.ID).Error; err != nil {
		return false, fmt.Errorf("link queue job: %w", err)
	}
	return true, nil
}

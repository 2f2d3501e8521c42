package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/course"
)

// CallStore keeps the audit of external AI calls and computes the cost
// report from it (docs/design/llm.md).
type CallStore struct{ db *DB }

// NewCallStore returns the store of external_service_calls.
func NewCallStore(db *DB) *CallStore { return &CallStore{db: db} }

var (
	_ course.CallRecorder = (*CallStore)(nil)
	_ course.CostReporter = (*CallStore)(nil)
)

// maxCallError bounds the stored error text of an attempt.
const maxCallError = 2000

// RecordCall inserts one attempt in a transaction of its own: the audit
// never depends on the job's transaction. It commits without waiting for
// the WAL flush (synchronous_commit off for this transaction only): a
// search request embeds its query and records the call before searching,
// and the disk's fsync tail would otherwise be its latency tail. The row
// is visible at once; only a PostgreSQL crash within the WAL writer's
// delay (200 ms by default) could lose it, and the next synchronous
// commit of anything flushes it (docs/design/llm.md, "Audit").
func (s *CallStore) RecordCall(ctx context.Context, c *course.ExternalCall) error {
	if c.ID == uuid.Nil {
		c.ID = uuid.Must(uuid.NewV7())
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	msg := c.ErrorMessage
	if msg != nil && len([]rune(*msg)) > maxCallError {
		cut := string([]rune(*msg)[:maxCallError])
		msg = &cut
	}
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("insert external call: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	b := &pgx.Batch{}
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(`INSERT INTO external_service_calls
			(id, tenant_id, job_id, action, strategy, provider, model_id, provider_model, prompt_ref,
			 unit_type, unit_in, unit_out, latency_ms, cost_usd, success, error_message, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		c.ID, c.TenantID, c.JobID, c.Action, c.Strategy, c.Provider, c.ModelID, c.ProviderModel, c.PromptRef,
		c.UnitType, clampInt32(c.UnitIn), clampInt32(c.UnitOut), clampInt32(c.LatencyMS), c.CostUSD,
		c.Success, msg, c.CreatedAt)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert external call: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("insert external call: commit: %w", err)
	}
	return nil
}

// clampInt32 fits a count into the integer columns; a count beyond 2^31
// is recorded as the largest storable value rather than failing the audit.
func clampInt32(v *int64) *int64 {
	if v == nil || *v <= 1<<31-1 {
		return v
	}
	m := int64(1<<31 - 1)
	return &m
}

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

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

// RecordCall inserts one attempt. It is a single statement, so it commits
// on its own: the audit never depends on the job's transaction.
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
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO external_service_calls
			(id, tenant_id, job_id, action, strategy, provider, model_id, provider_model, prompt_ref,
			 unit_type, unit_in, unit_out, latency_ms, cost_usd, success, error_message, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		c.ID, c.TenantID, c.JobID, c.Action, c.Strategy, c.Provider, c.ModelID, c.ProviderModel, c.PromptRef,
		c.UnitType, clampInt32(c.UnitIn), clampInt32(c.UnitOut), clampInt32(c.LatencyMS), c.CostUSD,
		c.Success, msg, c.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert external call: %w", err)
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

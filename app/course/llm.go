package course

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Router actions (docs/design/llm.md). An action names what a call is for;
// the registry maps it to chains of models.
const (
	ActionCourseStructuring    = "course_structuring"
	ActionPresentationAnalysis = "presentation_analysis"
	ActionTranscribe           = "transcribe"
	ActionEmbed                = "embed"
	ActionTextProcessing       = "text_processing"
)

// StrategyDefault is the chain every action has; other strategies fall
// back to it when they are exhausted.
const StrategyDefault = "default"

// LLMCall says whom an external AI call serves and why. Every audit row
// carries it, so cost is always attributable to a tenant and a job.
type LLMCall struct {
	Action    string
	Strategy  string // "" = default
	TenantID  *uuid.UUID
	JobID     *uuid.UUID
	PromptRef string // prompt version, e.g. v1_free; "" when no prompt
}

// LLMPart is one part of a message: text, or an image as a data URL
// (data:image/png;base64,...).
type LLMPart struct {
	Text     string
	ImageURL string
}

// LLMMessage is one conversation turn; Role is "user" or "assistant".
type LLMMessage struct {
	Role  string
	Parts []LLMPart
}

// CompletionRequest is what a caller asks of a chat model. With a Schema
// the reply must be one JSON object valid against it; a reply that is not
// counts as a retryable failure of that attempt.
type CompletionRequest struct {
	System      string
	Messages    []LLMMessage
	Temperature *float64
	MaxTokens   int             // 0 = the model's max_output_tokens
	Schema      json.RawMessage // optional JSON schema of the reply
	SchemaName  string          // e.g. course_structure
	// Check runs after schema validation (rules a schema cannot say);
	// an error makes the attempt a retryable failure.
	Check func(json.RawMessage) error
	// Context is the structured input the prompt was rendered from (the
	// CourseContext JSON). Providers that read no prose (builtin) use it.
	Context json.RawMessage
}

// Completion is a successful reply with the identity of the audited
// attempt that produced it (a snapshot references CallID).
type Completion struct {
	Text  string          // the raw reply text
	JSON  json.RawMessage // the parsed object when a Schema was given
	Usage LLMUsage
}

// LLMUsage identifies the successful attempt and what it consumed.
type LLMUsage struct {
	CallID        uuid.UUID // external_service_calls.id of the attempt
	Strategy      string    // effective, e.g. quality->default
	Provider      string
	ModelID       string // registry model id
	ProviderModel string
	UnitsIn       int64
	UnitsOut      int64
	CostUSD       *float64
}

// TranscriptionRequest is one audio file to transcribe.
type TranscriptionRequest struct {
	Path        string  // local audio file
	Language    string  // optional ISO-639-1 hint
	DurationSec float64 // used for the audit when the provider reports none
}

// TranscriptSegment is one timed segment, in seconds from the file start.
type TranscriptSegment struct {
	Start float64
	End   float64
	Text  string
}

// Transcription is the segments of one audio file.
type Transcription struct {
	Segments []TranscriptSegment
	Usage    LLMUsage
}

// Embeddings holds one vector per input text, in input order.
type Embeddings struct {
	Vectors [][]float32
	Usage   LLMUsage
}

// LLM is the one door to external AI models (the llm.Router). Every call
// is attempted along the action's chain and audited per attempt.
// Errors: ErrLLMNotConfigured when no model of the action is usable,
// *AllModelsFailedError when every usable model failed, or the context's
// error when the caller was cancelled.
type LLM interface {
	Complete(ctx context.Context, call LLMCall, req CompletionRequest) (*Completion, error)
	Transcribe(ctx context.Context, call LLMCall, req TranscriptionRequest) (*Transcription, error)
	Embed(ctx context.Context, call LLMCall, texts []string) (*Embeddings, error)
	// Configured reports whether the action has at least one usable model.
	Configured(action string) bool
}

// ErrLLMNotConfigured means the action's chains hold no usable model (no
// provider key, provider disabled, or no model with the capability).
var ErrLLMNotConfigured = errors.New("no model is configured for this action")

// AllModelsFailedError is the router's verdict when every usable model of
// the chain failed. Permanent is true when every attempt failed
// permanently (retrying the job cannot help); otherwise a later job
// attempt may succeed.
type AllModelsFailedError struct {
	Action    string
	Permanent bool
	Attempts  int
	Last      error
}

// Error implements error; it carries the last attempt's error text, which
// is internal (it may name hosts) and never shown to clients as such.
func (e *AllModelsFailedError) Error() string {
	kind := "retryable"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("all models failed for %s (%s, %d attempts): %v", e.Action, kind, e.Attempts, e.Last)
}

// Unwrap exposes the last attempt's error.
func (e *AllModelsFailedError) Unwrap() error { return e.Last }

// ExternalCall is one audited attempt of an external AI call: one row of
// external_service_calls. Unknown values are nil, never zero: a NULL cost
// means the price is unknown, not free.
type ExternalCall struct {
	ID            uuid.UUID
	TenantID      *uuid.UUID
	JobID         *uuid.UUID
	Action        string
	Strategy      string
	Provider      string
	ModelID       string
	ProviderModel *string
	PromptRef     *string
	UnitType      *string // tokens or seconds
	UnitIn        *int64
	UnitOut       *int64
	LatencyMS     *int64
	CostUSD       *float64
	Success       bool
	ErrorMessage  *string
	CreatedAt     time.Time
}

// CallRecorder writes audit rows, each in its own short transaction so a
// failing job never rolls its cost back.
type CallRecorder interface {
	RecordCall(ctx context.Context, c *ExternalCall) error
}

// CostReport is the cost of a tenant's external calls (GET /reports/cost).
type CostReport struct {
	Summary    CostSummary
	ByAction   []CostGroup
	ByProvider []CostGroup
	ByModel    []CostGroup
}

// CostSummary totals every call of the range.
type CostSummary struct {
	TotalCalls      int64
	SuccessfulCalls int64
	FailedCalls     int64
	TotalCostUSD    float64 // NULL costs ignored; rounded to 6 decimals
	TotalUnitsIn    int64
	TotalUnitsOut   int64
	AvgLatencyMS    float64 // over known latencies; rounded to 2 decimals
}

// CostGroup is the same metrics for one action, provider or model id.
type CostGroup struct {
	Group        string
	Calls        int64
	CostUSD      float64
	UnitsIn      int64
	UnitsOut     int64
	AvgLatencyMS float64
}

// CostReporter computes cost reports over one tenant's rows only.
// From is inclusive, To exclusive; nil means unbounded.
type CostReporter interface {
	CostReport(ctx context.Context, tenantID uuid.UUID, from, to *time.Time) (*CostReport, error)
}

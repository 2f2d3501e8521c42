package course

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Embedding of chunks (docs/design/search.md): an embed job per material
// embeds, batch by batch, the chunks lacking a vector of the current
// model. A vector is stored only if the chunk's text is still the one that
// was embedded, so a re-ingest during the job never receives a stale one.

// EmbedTask is a started embed job and the material whose chunks it embeds.
type EmbedTask struct {
	Job        Job
	TenantID   uuid.UUID
	MaterialID uuid.UUID
}

// ChunkText is a chunk to embed, as read for one batch.
type ChunkText struct {
	ID          uuid.UUID
	Index       int
	Text        string
	ContentHash string
}

// ChunkVector is a computed vector for the chunk text identified by
// (ID, ContentHash).
type ChunkVector struct {
	ID          uuid.UUID
	ContentHash string
	Vector      []float32
}

// EmbedLifecycle is the state machine side of embed jobs, driven by the
// embed worker. Transitions of a job that is no longer unfinished are
// no-ops, as for ingest jobs.
type EmbedLifecycle interface {
	// StartEmbed runs the start guard; a material deleted meanwhile
	// cancels the job (StartGone).
	StartEmbed(ctx context.Context, id uuid.UUID) (JobStart, *EmbedTask, error)
	// UnembeddedChunks returns up to limit chunks of the material, in
	// chunk order after index after, whose vector is missing or from
	// another model than model.
	UnembeddedChunks(ctx context.Context, materialID uuid.UUID, model string, after, limit int) ([]ChunkText, error)
	// StoreEmbeddings writes vectors labelled with model, each only if
	// the chunk still has that content hash; it returns how many were
	// written.
	StoreEmbeddings(ctx context.Context, model string, vs []ChunkVector) (int, error)
	// CompleteEmbed completes the job and, through done, its queue record.
	CompleteEmbed(ctx context.Context, id uuid.UUID, done QueueDone) error
	RequeueJob(ctx context.Context, id uuid.UUID, msg string, next time.Time) error
	InterruptJob(ctx context.Context, id uuid.UUID, next time.Time) error
	FailJob(ctx context.Context, id uuid.UUID, msg string) error
}

// EmbedBackfill finds what the current model has not embedded.
type EmbedBackfill interface {
	// BackfillEmbeds creates embed jobs (at most max) for ready
	// materials with chunks lacking vectors of model and no embed job
	// waiting; it returns how many it created.
	BackfillEmbeds(ctx context.Context, model string, max int) (int, error)
}

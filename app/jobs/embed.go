package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
)

// KindEmbed is the River kind of embed jobs (docs/design/search.md).
const KindEmbed = "embed"

// EmbedArgs points at the business embed job.
type EmbedArgs struct {
	JobID uuid.UUID `json:"job_id"`
}

// Kind implements river.JobArgs.
func (EmbedArgs) Kind() string { return KindEmbed }

// InsertOpts puts embed jobs on their own queue, so a long embedding
// backlog never delays ingestion.
func (EmbedArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEmbed, Priority: PriorityNormal}
}

// scheduleEmbed inserts the River job of a business embed job in tx. The
// heavy-work window does not apply: embedding is network-bound.
func (e *Enqueuer) scheduleEmbed(ctx context.Context, tx course.Tx, job *course.Job) (course.QueueTicket, error) {
	t, err := sqlTx(tx)
	if err != nil {
		return course.QueueTicket{}, err
	}
	res, err := e.client.InsertTx(ctx, t, EmbedArgs{JobID: job.ID},
		&river.InsertOpts{MaxAttempts: e.maxAttempts, Priority: riverPriority(job.Priority)})
	if err != nil {
		return course.QueueTicket{}, fmt.Errorf("enqueue embed: %w", err)
	}
	return course.QueueTicket{Ref: course.QueueRef(res.Job.ID)}, nil
}

// EmbedWorker embeds a material's chunks batch by batch through the LLM
// router; each batch is one audited call under the material's tenant.
type EmbedWorker struct {
	river.WorkerDefaults[EmbedArgs]
	Store     course.EmbedLifecycle
	LLM       course.LLM
	Model     string // the current embedding model (provider model)
	BatchSize int    // EMBEDDING_BATCH_SIZE
	Limit     time.Duration
	Backoff   backoff
	Metrics   *Metrics
	Log       *slog.Logger
}

// Timeout bounds one attempt.
func (w *EmbedWorker) Timeout(*river.Job[EmbedArgs]) time.Duration { return w.Limit }

// Work runs one attempt.
func (w *EmbedWorker) Work(ctx context.Context, job *river.Job[EmbedArgs]) error {
	id := job.Args.JobID
	log := w.Log.With("logger", "jobs.embed", "job_id", id, "attempt", job.Attempt)
	verdict, task, err := w.Store.StartEmbed(ctx, id)
	if err != nil {
		return fmt.Errorf("start embed job: %w", err)
	}
	switch verdict {
	case course.StartRun:
	case course.StartWait:
		return river.JobSnooze(waitForDependencies)
	default:
		return nil
	}
	log = log.With("tenant_id", task.TenantID, "material_id", task.MaterialID)
	started := time.Now()
	n, err := w.embed(ctx, task)
	if err == nil {
		err = w.Store.CompleteEmbed(ctx, id, completeInTx(job))
	}
	w.Metrics.duration(KindEmbed, time.Since(started))
	if err != nil {
		return w.failed(ctx, log, job, err)
	}
	w.Metrics.finished(KindEmbed, course.JobComplete)
	log.Info("job_completed", "embedded", n, "duration_ms", time.Since(started).Milliseconds())
	return nil
}

// embed walks the material's unembedded chunks in chunk order, one batch
// per call. Each chunk is tried once per attempt: one whose vector was
// not stored (re-ingested meanwhile) is left to the embed job its
// re-ingest scheduled.
func (w *EmbedWorker) embed(ctx context.Context, task *course.EmbedTask) (int, error) {
	jobID, tenant := task.Job.ID, task.TenantID
	call := course.LLMCall{Action: course.ActionEmbed, TenantID: &tenant, JobID: &jobID}
	stored, after := 0, -1
	for {
		batch, err := w.Store.UnembeddedChunks(ctx, task.MaterialID, w.Model, after, w.BatchSize)
		if err != nil {
			return stored, err
		}
		if len(batch) == 0 {
			return stored, nil
		}
		texts := make([]string, len(batch))
		for i, c := range batch {
			texts[i] = c.Text
		}
		e, err := w.LLM.Embed(ctx, call, texts)
		if err != nil {
			return stored, err
		}
		if e.Usage.ProviderModel != w.Model {
			// A fallback model's vectors are not comparable with the
			// stored ones: retry later rather than mix them.
			return stored, errOtherEmbeddingModel
		}
		vs := make([]course.ChunkVector, len(batch))
		for i, c := range batch {
			vs[i] = course.ChunkVector{ID: c.ID, ContentHash: c.ContentHash, Vector: e.Vectors[i]}
		}
		n, err := w.Store.StoreEmbeddings(ctx, w.Model, vs)
		if err != nil {
			return stored, err
		}
		stored += n
		after = batch[len(batch)-1].Index
	}
}

var errOtherEmbeddingModel = errors.New("embedding served by another model than the configured one")

// failed records a failed attempt as the ingest worker does: a permanent
// router verdict or the last attempt fails the job, anything else
// requeues it with the backoff's time.
func (w *EmbedWorker) failed(ctx context.Context, log *slog.Logger, job *river.Job[EmbedArgs], err error) error {
	id := job.Args.JobID
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if interrupted(ctx) {
		if ierr := w.Store.InterruptJob(rec, id, time.Now().Add(interruptedRetry)); ierr != nil {
			log.Error("job_requeue_failed", "error", ierr)
		}
		return river.JobSnooze(interruptedRetry)
	}
	msg, permanent := "Embedding failed", false
	var all *course.AllModelsFailedError
	switch {
	case errors.Is(err, course.ErrLLMNotConfigured):
		msg, permanent = "Embedding is not configured", true
	case errors.As(err, &all) && all.Permanent:
		msg, permanent = "Embedding was rejected by the provider", true
	case errors.Is(err, context.DeadlineExceeded):
		msg = "Embedding timed out"
	}
	return settleFailure(rec, log, w.Store, w.Metrics, w.Backoff, job.JobRow, KindEmbed, id, msg, permanent, err)
}

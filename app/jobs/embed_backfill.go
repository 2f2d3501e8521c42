package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
)

// backfillBatch bounds the embed jobs one embed_backfill pass creates;
// the next period continues, so a model change converges in steps.
const backfillBatch = 500

// EmbedBackfillArgs is the periodic embed_backfill (no business job row).
type EmbedBackfillArgs struct{}

// Kind implements river.JobArgs.
func (EmbedBackfillArgs) Kind() string { return "embed_backfill" }

// InsertOpts runs the pass on the maintenance queue, once per period.
func (EmbedBackfillArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 1}
}

// EmbedBackfillWorker schedules embed jobs for materials whose chunks lack
// vectors of the current model (embeddings enabled later, or the model
// changed), so the index converges without a manual step.
type EmbedBackfillWorker struct {
	river.WorkerDefaults[EmbedBackfillArgs]
	Store course.EmbedBackfill
	Model string
	Log   *slog.Logger
}

// Work runs one pass.
func (w *EmbedBackfillWorker) Work(ctx context.Context, _ *river.Job[EmbedBackfillArgs]) error {
	n, err := w.Store.BackfillEmbeds(ctx, w.Model, backfillBatch)
	if err != nil {
		return fmt.Errorf("embed backfill: %w", err)
	}
	if n > 0 {
		w.Log.Info("embed_backfill_scheduled", "logger", "jobs.embed_backfill", "jobs", n, "model", w.Model)
	}
	return nil
}

// Timeout bounds one pass.
func (w *EmbedBackfillWorker) Timeout(*river.Job[EmbedBackfillArgs]) time.Duration {
	return 5 * time.Minute
}

// EmbedDeps are what the embed workers need; nil Runner deps.Embed means
// embeddings are off and neither worker runs.
type EmbedDeps struct {
	Store     course.EmbedLifecycle
	Backfill  course.EmbedBackfill
	LLM       course.LLM
	Model     string        // the current embedding model
	BatchSize int           // EMBEDDING_BATCH_SIZE
	MaxJobs   int           // concurrent embed jobs per process
	Timeout   time.Duration // one attempt
	// BackfillInterval is the period of embed_backfill (leader only).
	BackfillInterval time.Duration
}

// registerEmbed adds the embed queue and worker and the periodic
// embed_backfill when embeddings are on.
func registerEmbed(workers *river.Workers, queues map[string]river.QueueConfig, periodic *[]*river.PeriodicJob, deps Deps, bo backoff) error {
	e := deps.Embed
	if e == nil {
		return nil
	}
	if err := river.AddWorkerSafely(workers, &EmbedWorker{Store: e.Store, LLM: e.LLM, Model: e.Model,
		BatchSize: max(e.BatchSize, 1), Limit: e.Timeout, Backoff: bo, Metrics: deps.Metrics, Log: base(deps.Log)}); err != nil {
		return fmt.Errorf("register embed worker: %w", err)
	}
	queues[QueueEmbed] = river.QueueConfig{MaxWorkers: max(e.MaxJobs, 1)}
	if e.Backfill == nil {
		return nil
	}
	if err := river.AddWorkerSafely(workers, &EmbedBackfillWorker{Store: e.Backfill, Model: e.Model, Log: base(deps.Log)}); err != nil {
		return fmt.Errorf("register embed backfill: %w", err)
	}
	// Periodic jobs are inserted by River's elected leader only.
	*periodic = append(*periodic, river.NewPeriodicJob(river.PeriodicInterval(e.BackfillInterval),
		func() (river.JobArgs, *river.InsertOpts) { return EmbedBackfillArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	return nil
}

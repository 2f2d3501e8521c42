package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/llm"
)

// Deps are the services workers use; each worker gets what it needs as
// struct fields, never through the context.
type Deps struct {
	Store   ObjectStore
	Ingest  IngestStore
	Reaper  Reaper
	Process Processor
	// Steps, LLM and Prompts run the generation queue; nil Steps leaves
	// it off.
	Steps   course.StepLifecycle
	LLM     course.LLM
	Prompts *llm.Prompts
	Metrics *Metrics
	Log     *slog.Logger
	// Ranker and Embedding let steps rank a truncated context by
	// embedding similarity; a zero Embedding keeps the full-text rank.
	Ranker    course.ChunkRanker
	Embedding course.EmbeddingPolicy
	// Embed works embed jobs and embed_backfill when set (embeddings on).
	Embed *EmbedDeps
	// Maintenance runs storage_orphan_sweep and housekeeping when set.
	Maintenance *MaintenanceDeps
}

// ObjectStore is the part of the object store the workers need.
type ObjectStore interface {
	ObjectDeleter
	Downloader
}

// Options tune the runner.
type Options struct {
	RetryBaseDelay  time.Duration // backoff base (×4 per attempt, cap 1 h)
	ShutdownTimeout time.Duration // soft stop before running jobs are cancelled
	MaintenanceMax  int           // concurrency of the maintenance queue
	IngestMax       int           // WORKER_INGEST_MAX_JOBS
	IngestTimeout   time.Duration // WORKER_JOB_TIMEOUT
	GenerateMax     int           // WORKER_MAX_JOBS
	Generation      GenerationOptions
	// RescueGrace is added to the longest job timeout to decide when a
	// running job belongs to a dead worker and is retried.
	RescueGrace time.Duration
	Window      Window
	Chunking    ingest.ChunkConfig
	TmpDir      string
	// ReaperInterval is the period of job_reaper (JOB_REAPER_INTERVAL);
	// MaxWait how long a job may wait for dependencies (JOB_MAX_WAIT).
	ReaperInterval time.Duration
	MaxWait        time.Duration
	// WorkerID is this process's id: River's client id (recorded on the
	// jobs it runs) and the id of its heartbeat row, so the reaper can
	// tell which running jobs belong to a dead worker. StaleAfter
	// (WORKER_STALE_AFTER) is when a heartbeat counts as dead.
	WorkerID   string
	StaleAfter time.Duration
	// Maintenance schedules the sweep and housekeeping and sets River's
	// retention of finished jobs.
	Maintenance MaintenanceOptions
}

// Runner works the queues of this process.
type Runner struct {
	client *river.Client[*sql.Tx]
	opts   Options
	queues map[string]river.QueueConfig // as given to River, for tests
}

// NewRunner registers every worker in one place and builds the client. It
// works through database/sql on db, so a worker's result and River's
// completion of its job commit in one transaction; pool (the same
// database) carries LISTEN for prompt pick-up of new jobs.
func NewRunner(db *sql.DB, pool *pgxpool.Pool, deps Deps, opts Options) (*Runner, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	log := logger(deps.Log)
	bo := backoff{base: opts.RetryBaseDelay, window: opts.Window}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &CleanupWorker{Store: deps.Store}); err != nil {
		return nil, fmt.Errorf("register cleanup worker: %w", err)
	}
	queues := map[string]river.QueueConfig{QueueMaintenance: {MaxWorkers: opts.MaintenanceMax}}
	if deps.Ingest != nil {
		if err := river.AddWorkerSafely(workers, &IngestWorker{
			Store: deps.Ingest, Objects: deps.Store, Process: deps.Process, Chunking: opts.Chunking,
			TmpDir: opts.TmpDir, Limit: opts.IngestTimeout, Window: opts.Window, Backoff: bo,
			Metrics: deps.Metrics, Log: base(deps.Log),
		}); err != nil {
			return nil, fmt.Errorf("register ingest worker: %w", err)
		}
		queues[QueueIngest] = river.QueueConfig{MaxWorkers: opts.IngestMax}
	}
	if deps.Steps != nil {
		if err := river.AddWorkerSafely(workers, &StepWorker{Store: deps.Steps, LLM: deps.LLM, Prompts: deps.Prompts,
			Opts: opts.Generation, Ranker: deps.Ranker, Embedding: deps.Embedding,
			Backoff: bo, Metrics: deps.Metrics, Log: base(deps.Log)}); err != nil {
			return nil, fmt.Errorf("register generation worker: %w", err)
		}
		queues[QueueGeneration] = river.QueueConfig{MaxWorkers: opts.GenerateMax}
	}
	var periodic []*river.PeriodicJob
	if deps.Reaper != nil {
		if err := river.AddWorkerSafely(workers, &ReaperWorker{Store: deps.Reaper, MaxWait: opts.MaxWait,
			StaleAfter: opts.StaleAfter, Log: base(deps.Log)}); err != nil {
			return nil, fmt.Errorf("register reaper: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &TenantReleaseWorker{Store: deps.Reaper}); err != nil {
			return nil, fmt.Errorf("register tenant release: %w", err)
		}
		// Periodic jobs are inserted by River's elected leader only.
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(opts.ReaperInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ReaperArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if err := registerEmbed(workers, queues, &periodic, deps, bo); err != nil {
		return nil, err
	}
	if err := registerMaintenance(workers, queues, &periodic, deps, opts.Maintenance); err != nil {
		return nil, err
	}
	c, err := river.NewClient(riverdatabasesql.NewWithPgxListener(db, pool), &river.Config{
		ID:           opts.WorkerID, // "" lets River generate one
		Queues:       queues,
		Workers:      workers,
		PeriodicJobs: periodic,
		RetryPolicy:  bo,
		// A released step is picked up within 20 ms of its insert's
		// notification instead of River's default 100 ms: a deep plan is
		// a chain of releases (docs/design/generation.md, "Execution").
		FetchCooldown: 20 * time.Millisecond,
		// A job still running after its timeout plus the grace belongs to
		// a dead worker: River makes it retryable again (docs/design/jobs.md, "Reaper").
		RescueStuckJobsAfter: max(opts.IngestTimeout, opts.Generation.Timeout) + opts.RescueGrace,
		JobTimeout:           opts.IngestTimeout, // the default; workers override it per kind
		// River's cleaner (leader only) deletes finished River rows after
		// these; the business jobs rows keep the history
		// (docs/design/jobs.md, "Maintenance").
		CompletedJobRetentionPeriod: opts.Maintenance.CompletedRetention,
		CancelledJobRetentionPeriod: opts.Maintenance.CancelledRetention,
		DiscardedJobRetentionPeriod: opts.Maintenance.DiscardedRetention,
		Logger:                      log,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return &Runner{client: c, opts: opts, queues: queues}, nil
}

// Start begins fetching and working jobs.
func (r *Runner) Start(ctx context.Context) error {
	// Not the caller's context: cancelling it would kill running jobs at
	// once; shutdown goes through Stop's soft phase instead.
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	return nil
}

// hardStop is the longest the cancellation phase of Stop takes: running
// jobs are cancelled and record their interruption.
const hardStop = 10 * time.Second

// Stop stops fetching, lets running jobs finish within the shutdown
// timeout, then cancels them (cancelled attempts are retried later). A
// deadline on ctx is the whole budget: the soft phase ends early enough
// for the cancellation phase to fit in it too, so a process stopping
// within its container's stop grace period never loses a job to SIGKILL
// (docs/design/jobs.md, "Shutdown").
func (r *Runner) Stop(ctx context.Context) error {
	softFor, hardFor := r.opts.ShutdownTimeout, hardStop
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		hardFor = min(hardFor, left/4)
		softFor = min(softFor, left-hardFor)
	}
	soft, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(softFor, 0))
	defer cancel()
	if err := r.client.Stop(soft); err == nil {
		return nil
	}
	hard, cancel2 := context.WithTimeout(context.WithoutCancel(ctx), hardFor)
	defer cancel2()
	if err := r.client.StopAndCancel(hard); err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	return nil
}

func base(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.With("logger", "worker")
}

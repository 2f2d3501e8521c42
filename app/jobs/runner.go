package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Deps are the services workers use; each worker gets what it needs as
// struct fields, never through the context.
type Deps struct {
	Store ObjectDeleter
	Log   *slog.Logger
}

// Options tune the runner.
type Options struct {
	RetryBaseDelay  time.Duration // backoff base (×4 per attempt, cap 1 h)
	ShutdownTimeout time.Duration // soft stop before running jobs are cancelled
	MaintenanceMax  int           // concurrency of the maintenance queue
}

// Runner works the queues of this process.
type Runner struct {
	client *river.Client[pgx.Tx]
	opts   Options
}

// NewRunner registers every worker in one place and builds the client.
func NewRunner(pool *pgxpool.Pool, deps Deps, opts Options) (*Runner, error) {
	if opts.RetryBaseDelay <= 0 {
		opts.RetryBaseDelay = 30 * time.Second
	}
	if opts.MaintenanceMax <= 0 {
		opts.MaintenanceMax = 2
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &CleanupWorker{Store: deps.Store}); err != nil {
		return nil, fmt.Errorf("register cleanup worker: %w", err)
	}
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:      map[string]river.QueueConfig{QueueMaintenance: {MaxWorkers: opts.MaintenanceMax}},
		Workers:     workers,
		RetryPolicy: backoff{base: opts.RetryBaseDelay},
		Logger:      logger(deps.Log),
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return &Runner{client: c, opts: opts}, nil
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

// Stop stops fetching, lets running jobs finish within the shutdown
// timeout, then cancels them (cancelled attempts are retried later).
func (r *Runner) Stop(ctx context.Context) error {
	soft, cancel := context.WithTimeout(ctx, r.opts.ShutdownTimeout)
	defer cancel()
	if err := r.client.Stop(soft); err == nil {
		return nil
	}
	hard, cancel2 := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel2()
	if err := r.client.StopAndCancel(hard); err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	return nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.With("logger", "worker")
}

// Package jobsconf is the one mapping from the worker configuration
// (app/config) to the options of the job runner and enqueuer (app/jobs).
// The program and the tests both use it, so a test worker runs with the
// settings an unconfigured deployment gets and app/jobs keeps no defaults
// of its own (docs/design/jobs.md).
package jobsconf

import (
	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// Runner returns the runner options of a configuration.
func Runner(w config.Worker, in config.Ingest, lim config.Limits, ai config.LLM) jobs.Options {
	return jobs.Options{
		RetryBaseDelay:  w.RetryBaseDelay,
		ShutdownTimeout: w.ShutdownTimeout,
		MaintenanceMax:  w.MaintenanceMax,
		IngestMax:       w.IngestMaxJobs,
		IngestTimeout:   w.JobTimeout,
		GenerateMax:     w.MaxJobs,
		Generation: jobs.GenerationOptions{
			Strategy: ai.StructuringStrategy, MaxTokens: ai.MaxOutputTokens,
			Budget: ai.ContextTokenBudget, Timeout: w.StepTimeout,
		},
		RescueGrace: w.RescueGrace,
		Window:      Window(w.HeavyWindow),
		Chunking: ingest.ChunkConfig{
			Target: in.ChunkTarget, Max: in.ChunkMax, Overlap: in.ChunkOverlap, MaxChunks: lim.MaxChunks,
		},
		TmpDir:         w.TmpDir,
		ReaperInterval: w.ReaperInterval,
		MaxWait:        w.MaxWait,
		StaleAfter:     w.StaleAfter,
		Maintenance:    Maintenance(w),
	}
}

// Maintenance is the schedule of the maintenance jobs and River's
// retention; the sweep's clock is the heavy-work window's zone.
func Maintenance(w config.Worker) jobs.MaintenanceOptions {
	m := w.Maintenance
	return jobs.MaintenanceOptions{
		SweepAt: m.SweepAt, SweepLoc: w.HeavyWindow.Location, OrphanGrace: m.OrphanGrace,
		HousekeepingInterval: m.HousekeepingInterval, RateLimitIdle: m.RateLimitIdle, HeartbeatMaxAge: m.HeartbeatMaxAge,
		CompletedRetention: m.CompletedRetention, CancelledRetention: m.CancelledRetention, DiscardedRetention: m.DiscardedRetention,
	}
}

// Enqueue returns the enqueuer options of a worker configuration.
func Enqueue(w config.Worker) jobs.EnqueueOptions {
	return jobs.EnqueueOptions{Window: Window(w.HeavyWindow), MaxAttempts: w.MaxTries, TenantSlots: w.IngestTenantSlots}
}

// Window is the heavy-work window of a configuration.
func Window(h config.HeavyWindow) jobs.Window {
	return jobs.Window{Enabled: h.Enabled, Start: h.Start, End: h.End, Loc: h.Location}
}

// Defaults are the runner options of an environment that sets nothing,
// for tests; tmpDir is the worker's scratch directory.
func Defaults(tmpDir string) jobs.Options {
	o := Runner(config.DefaultWorker(), config.DefaultIngest(), config.DefaultLimits(), config.DefaultLLM())
	o.TmpDir = tmpDir
	return o
}

// DefaultEnqueue are the enqueuer options of an environment that sets
// nothing, for tests.
func DefaultEnqueue() jobs.EnqueueOptions { return Enqueue(config.DefaultWorker()) }

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/fetch"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// startWorkers wires the workers' dependencies and starts the queues.
func startWorkers(ctx context.Context, cfg *config.Config, d *deps, reg prometheus.Registerer, log *slog.Logger) (*jobs.Runner, error) {
	if err := os.MkdirAll(cfg.Worker.TmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("worker temp dir: %w", err)
	}
	r, err := jobs.NewRunner(d.db.SQL, d.db.Pool, jobs.Deps{
		Store:   d.store,
		Ingest:  postgres.NewJobStore(d.db, d.enqueuer),
		Process: newProcessor(cfg),
		Metrics: jobs.NewMetrics(reg),
		Log:     log,
	}, jobs.Options{
		RetryBaseDelay:  cfg.Worker.RetryBaseDelay,
		ShutdownTimeout: cfg.Worker.ShutdownTimeout,
		IngestMax:       cfg.Worker.IngestMaxJobs,
		IngestTimeout:   cfg.Worker.JobTimeout,
		RescueGrace:     cfg.Worker.RescueGrace,
		Window:          window(cfg),
		Chunking: ingest.ChunkConfig{
			Target: cfg.Ingest.ChunkTarget, Max: cfg.Ingest.ChunkMax, Overlap: cfg.Ingest.ChunkOverlap,
		},
		TmpDir: cfg.Worker.TmpDir,
	})
	if err != nil {
		return nil, err
	}
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	log.Info("worker_started", "logger", "worker", "ingest_max_jobs", cfg.Worker.IngestMaxJobs,
		"heavy_window", cfg.Worker.HeavyWindow.String())
	return r, nil
}

// window is the heavy-work window of the configuration.
func window(cfg *config.Config) jobs.Window {
	w := cfg.Worker.HeavyWindow
	return jobs.Window{Enabled: w.Enabled, Start: w.Start, End: w.End, Loc: w.Location}
}

// newProcessor builds the ingest processors: poppler and ffmpeg from PATH,
// the SSRF-safe fetchers, and transcription when a key is configured.
func newProcessor(cfg *config.Config) *ingest.Processor {
	in := cfg.Ingest
	fo := fetch.Options{
		Timeout: in.FetchTimeout, MaxBytes: in.FetchMaxBytes, MaxRedirects: in.FetchMaxRedirects,
		AllowedPorts: in.FetchAllowedPorts, AllowPrivate: in.FetchAllowPrivate,
		UserAgent: "CourseSupporter/" + version,
	}
	if fo.MaxRedirects == 0 {
		fo.MaxRedirects = -1 // fetch.Options: 0 means the default, negative none
	}
	media := fo
	media.MaxBytes = cfg.Upload.MaxBytes
	media.Timeout = cfg.Worker.JobTimeout // large files: bounded by the job, not the page timeout
	p := &ingest.Processor{
		SegmentSeconds: in.SegmentSeconds,
		Web:            fetch.New(fo),
		Media:          fetch.New(media),
		VideoPlatforms: course.DefaultPlatforms[course.SourceVideo],
		TmpDir:         cfg.Worker.TmpDir,
	}
	if in.OpenAIAPIKey != "" {
		p.Transcriber = &ingest.Transcriber{
			BaseURL: in.OpenAIBaseURL, APIKey: in.OpenAIAPIKey, Model: in.TranscriptionModel,
			Language: in.Language, HTTP: &http.Client{Timeout: in.TranscriptionHTTP},
		}
	}
	return p
}

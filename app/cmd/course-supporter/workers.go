package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/fetch"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/llm"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// workerSet is the running queues and the heartbeat of this process.
type workerSet struct {
	runner    *jobs.Runner
	heartbeat *jobs.Heartbeater
	stopBeat  context.CancelFunc
	beatDone  chan struct{}
}

// Stop stops the queues (soft, then hard), then the heartbeat, so the
// heartbeat outlives the jobs it vouches for.
func (w *workerSet) Stop(ctx context.Context) error {
	err := w.runner.Stop(ctx)
	w.stopBeat()
	<-w.beatDone
	return err
}

// startWorkers wires the workers' dependencies, starts the queues and the
// heartbeat.
func startWorkers(ctx context.Context, cfg *config.Config, d *deps, reg prometheus.Registerer, log *slog.Logger) (*workerSet, error) {
	if err := os.MkdirAll(cfg.Worker.TmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("worker temp dir: %w", err)
	}
	if n, err := jobs.SweepTemp(cfg.Worker.TmpDir, cfg.Worker.JobTimeout+cfg.Worker.RescueGrace); err != nil {
		log.Warn("worker_tmp_sweep_failed", "logger", "worker", "error", err)
	} else if n > 0 {
		log.Info("worker_tmp_swept", "logger", "worker", "removed", n)
	}
	store := postgres.NewJobStore(d.db, d.enqueuer)
	ai, err := d.ai(cfg, reg, log)
	if err != nil {
		return nil, err
	}
	router := ai.router
	hb, workerID := heartbeat(cfg, d, log)
	opts := jobsconf.Runner(cfg.Worker, cfg.Ingest, cfg.Limits, cfg.LLM)
	opts.WorkerID = workerID
	r, err := jobs.NewRunner(d.db.SQL, d.db.Pool, jobs.Deps{
		Store:   d.store,
		Ingest:  store,
		Reaper:  store,
		Process: newProcessor(cfg, router, d.llm.prompts),
		Steps:   postgres.NewGenerationStore(d.db, d.enqueuer),
		LLM:     router,
		Prompts: d.llm.prompts,
		Metrics: jobs.NewMetrics(reg),
		Log:     log,
		Embed:   embedDeps(cfg, store, ai),
		// Storage maintenance and housekeeping (leader only).
		Maintenance: &jobs.MaintenanceDeps{Objects: d.store, Refs: d.db, Housekeeper: d.db},
		// Steps rank a truncated context by embedding similarity when
		// embeddings are on (docs/design/search.md, "Generation context").
		Ranker:    postgres.NewSearchStore(d.db, cfg.Embed.EFSearch),
		Embedding: ai.policy,
	}, opts)
	if err != nil {
		return nil, err
	}
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	reg.MustRegister(hb.Collector())
	bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	w := &workerSet{runner: r, heartbeat: hb, stopBeat: stop, beatDone: make(chan struct{})}
	hb.Once(bctx)
	go func() { defer close(w.beatDone); hb.Run(bctx) }()
	log.Info("worker_started", "logger", "worker", "ingest_max_jobs", cfg.Worker.IngestMaxJobs,
		"generation_max_jobs", cfg.Worker.MaxJobs,
		"heavy_window", cfg.Worker.HeavyWindow.String())
	return w, nil
}

// workersStarted is what startWorkersAsync delivers: the running workers
// or why they did not start.
type workersStarted struct {
	runner *workerSet
	err    error
}

func (w workersStarted) get() (*workerSet, error) { return w.runner, w.err }

// startWorkersAsync runs startWorkers in the background, so serve can build
// and open the API meanwhile. d.ai must already have been built: it is not
// safe for concurrent first use.
func startWorkersAsync(ctx context.Context, cfg *config.Config, d *deps, reg prometheus.Registerer, log *slog.Logger) <-chan workersStarted {
	c := make(chan workersStarted, 1)
	go func() {
		r, err := startWorkers(ctx, cfg, d, reg, log)
		c <- workersStarted{runner: r, err: err}
	}()
	return c
}

// stopWorkers waits for workers started by startWorkersAsync (nil: none)
// and stops them, on a start-up error.
func stopWorkers(ctx context.Context, workers <-chan workersStarted) {
	if workers == nil {
		return
	}
	if r, err := (<-workers).get(); err == nil {
		_ = r.Stop(context.WithoutCancel(ctx))
	}
}

// heartbeat builds the heartbeat writer of this process and returns its
// worker id, which is also the River client id (so the reaper can match a
// running job to its worker's heartbeat).
func heartbeat(cfg *config.Config, d *deps, log *slog.Logger) (*jobs.Heartbeater, string) {
	host, _ := os.Hostname()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	row := postgres.Heartbeat{
		WorkerID: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(suffix)),
		Hostname: host, PID: os.Getpid(), Version: version, StartedAt: time.Now(),
		Queues: []string{jobs.QueueIngest, jobs.QueueGeneration, jobs.QueueMaintenance, jobs.QueueEmbed},
	}
	return &jobs.Heartbeater{
		Beat:     func(ctx context.Context) error { return d.db.Beat(ctx, row) },
		Interval: cfg.Worker.HeartbeatInterval,
		Log:      log,
	}, row.WorkerID
}

// newProcessor builds the ingest processors: poppler and ffmpeg from PATH,
// the SSRF-safe fetchers, and transcription and slide vision through the
// LLM router when models are configured.
func newProcessor(cfg *config.Config, router course.LLM, prompts *llm.Prompts) *ingest.Processor {
	in := cfg.Ingest
	fo := fetch.Options{
		Timeout: in.FetchTimeout, MaxBytes: in.FetchMaxBytes, MaxRedirects: in.FetchMaxRedirects,
		AllowedPorts: in.FetchAllowedPorts, AllowPrivate: in.FetchAllowPrivate,
		UserAgent:      "CourseSupporter/" + version,
		MinBytesPerSec: cfg.Limits.FetchMinBytesPerSec,
	}
	if fo.MaxRedirects == 0 {
		fo.MaxRedirects = -1 // fetch.Options: 0 means the default, negative none
	}
	media := fo
	media.MaxBytes = cfg.Upload.MaxBytes
	// Large files: the whole download is bounded by the job and by the size
	// limit at the minimum rate; a server that goes quiet for FETCH_TIMEOUT,
	// or trickles below the rate, is given up on.
	media.Timeout, media.StallTimeout = cfg.Worker.JobTimeout, in.FetchTimeout
	p := &ingest.Processor{
		SegmentSeconds: in.SegmentSeconds,
		Web:            fetch.New(fo),
		Media:          fetch.New(media),
		VideoPlatforms: course.DefaultPlatforms[course.SourceVideo],
		TmpDir:         cfg.Worker.TmpDir,
		Limits: ingest.Limits{
			MaxChunks: cfg.Limits.MaxChunks, MaxTextBytes: cfg.Limits.MaxTextBytes,
			MaxXMLDepth: cfg.Limits.MaxXMLDepth, MaxHTMLTags: cfg.Limits.MaxHTMLTags,
		},
	}
	if len(in.VideoDownloader) > 0 {
		p.Downloader = &ingest.Downloader{Command: in.VideoDownloader, MaxBytes: cfg.Upload.MaxBytes,
			MinBytesPerSec: cfg.Limits.FetchMinBytesPerSec, Grace: in.FetchTimeout}
	}
	p.Transcriber = &ingest.Transcriber{LLM: router, Language: in.Language}
	if cfg.LLM.VisionEnabled {
		p.Vision = &ingest.Vision{LLM: router, Prompt: slidePrompt(prompts), MaxPages: cfg.LLM.VisionMaxPages, TmpDir: cfg.Worker.TmpDir}
	}
	return p
}

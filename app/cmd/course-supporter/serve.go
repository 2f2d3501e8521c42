package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/api"
	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/intake"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/objstore"
	"github.com/course-supporter/course-supporter/app/postgres"
)

func serveCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (and the workers too when WORKER_IN_PROCESS=true)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := e.loadConfig("http")
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, log, e.onListening)
		},
	}
}

// serve starts in dependency order and stops in reverse: on shutdown the
// HTTP drain comes first, then the workers, and the pools last.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, onListening func(api, metrics string)) error {
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.db.Close()
	materials := postgres.NewMaterialStore(d.db, d.enqueuer)
	nodes := postgres.NewNodeStore(d.db, d.enqueuer)
	generation := postgres.NewGenerationStore(d.db, d.enqueuer)
	limiter := postgres.NewRateLimiter(d.db)
	reg := newRegistry(d.db)
	metrics := api.NewMetrics(reg)
	ai, err := d.ai(cfg, reg, log)
	if err != nil {
		return err
	}
	// The in-process workers start (River, the first heartbeat: database
	// round trips) while the API is built and starts listening, so /livez
	// answers without waiting for them (docs/performance.md, "Footprint").
	var workers <-chan workersStarted
	if cfg.Worker.InProcess {
		workers = startWorkersAsync(ctx, cfg, d, reg, log)
	}
	srv := api.New(api.Deps{
		Metrics: metrics,
		Log:     log,
		Checks: []api.NamedCheck{
			{Name: "db", Checker: d.db},
			{Name: "s3", Checker: d.store},
			{Name: "queue", Checker: d.db.QueueCheck(cfg.Worker.StaleAfter)},
		},
		Keys:      postgres.NewKeyStore(d.db),
		Limiter:   limiter,
		Nodes:     nodes,
		Materials: materials,
		Jobs:      postgres.NewJobStore(d.db, d.enqueuer),
		Mappings:  postgres.NewMappingStore(d.db),
		Intake: intake.New(intake.Deps{Nodes: nodes, Materials: materials, Objects: d.store, Observer: metrics, Log: log},
			intakeOptions(cfg)),
		Costs:      postgres.NewCallStore(d.db),
		Search:     searcher(cfg, d, ai, log),
		Generation: generation,
		Structures: generation,
	}, apiOptions(cfg))

	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.HTTP.Addr)
	if err != nil {
		stopWorkers(ctx, workers)
		return fmt.Errorf("listen %s: %w", cfg.HTTP.Addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	abort := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = ln.Close() // in case Serve had not taken the listener yet
	}
	var runner *workerSet
	live := func() bool { return true }
	if workers != nil {
		// /livez already answers; /health's queue check waits for the
		// first heartbeat, which startWorkers writes.
		if runner, err = (<-workers).get(); err != nil {
			abort()
			return err
		}
		live = runner.heartbeat.Live
	}
	metricsSrv, metricsAddr, err := startMetrics(ctx, cfg.HTTP.MetricsAddr, reg, live, log)
	if err != nil {
		abort()
		if runner != nil {
			_ = runner.Stop(context.WithoutCancel(ctx))
		}
		return err
	}
	log.Info("app_started", "addr", ln.Addr().String(), "metrics_addr", metricsAddr, "workers", cfg.Worker.InProcess)
	if onListening != nil {
		onListening(ln.Addr().String(), metricsAddr)
	}

	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("app_stopping", "drain_timeout", cfg.HTTP.ShutdownTimeout.String())
	// SHUTDOWN_TIMEOUT is the whole budget (it must fit the container's
	// stop_grace_period): the HTTP drain and the in-process workers' stop
	// run at once within it, never one after the other.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	werrc := make(chan error, 1)
	if runner != nil {
		go func() { werrc <- runner.Stop(sctx) }()
	} else {
		werrc <- nil
	}
	if serr := srv.Shutdown(sctx); err == nil {
		err = serr
	}
	if werr := <-werrc; err == nil {
		err = werr
	}
	// Unused leased tokens back to the other processes. Past the budget they
	// stay counted until they leave the window (at most 61 s): said, not fatal.
	if lerr := limiter.Close(sctx); lerr != nil {
		log.Warn("rate_limit_tokens_not_returned", "error", lerr.Error())
	}
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	log.Info("app_stopped")
	return err
}

func apiOptions(cfg *config.Config) api.Options {
	return api.Options{
		Version:           version,
		JSONBodyMax:       cfg.HTTP.JSONBodyMax,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		TrustedProxies:    cfg.HTTP.TrustedProxies,
		HealthTimeout:     cfg.HTTP.HealthTimeout,
		ShutdownTimeout:   cfg.HTTP.ShutdownTimeout,
		RateLimitEnabled:  cfg.Auth.RateLimitEnabled,
		KeyCacheTTL:       cfg.Auth.KeyCacheTTL,
		UploadConcurrency: cfg.Upload.MaxConcurrent,
		UploadTenantSlots: cfg.Upload.TenantConcurrent,
		UploadIdle:        cfg.Upload.IdleTimeout,
		// The upload's own limit plus the form's framing (intake.declaredSlack).
		MaxRequestBytes: cfg.Upload.MaxBytes + 1<<20,
		CORS: api.CORSOptions{
			AllowedOrigins:   cfg.CORS.AllowedOrigins,
			AllowCredentials: cfg.CORS.AllowCredentials,
			AllowedMethods:   cfg.CORS.AllowedMethods,
			AllowedHeaders:   cfg.CORS.AllowedHeaders,
			ExposedHeaders:   cfg.CORS.ExposedHeaders,
			MaxAge:           cfg.CORS.MaxAge,
		},
	}
}

func intakeOptions(cfg *config.Config) intake.Options {
	return intake.Options{
		MaxBytes:      cfg.Upload.MaxBytes,
		PresignTTL:    cfg.Upload.PresignTTL,
		ObjectURLBase: strings.TrimRight(cfg.S3.Endpoint, "/") + "/" + cfg.S3.Bucket,
		Platforms:     course.DefaultPlatforms,
		ConfirmWithin: cfg.Worker.Maintenance.ConfirmWithin,
	}
}

// deps are the adapters every long-running command opens.
type deps struct {
	db       *postgres.DB
	store    *objstore.Store
	enqueuer *jobs.Enqueuer
	llm      *llmSet
	aiSet    *aiSet // built on first use by deps.ai
}

func openDeps(ctx context.Context, cfg *config.Config, log *slog.Logger) (*deps, error) {
	set, err := loadLLM(cfg)
	if err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, cfg.Database.URL, postgres.Options{
		MaxConns:          cfg.Database.MaxConns,
		MinConns:          cfg.Database.MinConns,
		HealthCheckPeriod: cfg.Database.HealthCheckPeriod,
		MaxConnLifetime:   cfg.Database.MaxConnLifetime,
	})
	if err != nil {
		return nil, err
	}
	enq, err := jobs.NewEnqueuer(db.SQL, jobsconf.Enqueue(cfg.Worker))
	if err != nil {
		db.Close()
		return nil, err
	}
	store := objstore.New(storeOptions(cfg))
	go verifyBucket(ctx, store, log)
	return &deps{db: db, store: store, enqueuer: enq, llm: set}, nil
}

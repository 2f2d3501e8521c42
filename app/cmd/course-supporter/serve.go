package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/api"
	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/objstore"
	"github.com/course-supporter/course-supporter/app/postgres"
)

func serveCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (and /livez on the metrics listener)",
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

// serve starts in dependency order and stops in reverse: pools and clients,
// then listeners; on shutdown the HTTP drain comes first, pools last.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, onListening func(api, metrics string)) error {
	db, err := postgres.Open(ctx, cfg.Database.URL, postgres.Options{
		MaxConns:          cfg.Database.MaxConns,
		MinConns:          cfg.Database.MinConns,
		HealthCheckPeriod: cfg.Database.HealthCheckPeriod,
		MaxConnLifetime:   cfg.Database.MaxConnLifetime,
	})
	if err != nil {
		return err
	}
	defer db.Close()
	store := objstore.New(storeOptions(cfg))
	verifyBucket(ctx, store, log)

	srv := api.New(api.Deps{
		Log: log,
		Checks: []api.NamedCheck{
			{Name: "db", Checker: db},
			{Name: "s3", Checker: store},
		},
		Keys:    postgres.NewKeyStore(db),
		Limiter: postgres.NewRateLimiter(db),
		Nodes:   postgres.NewNodeStore(db),
	}, api.Options{
		Version:          version,
		JSONBodyMax:      cfg.HTTP.JSONBodyMax,
		ReadTimeout:      cfg.HTTP.ReadTimeout,
		WriteTimeout:     cfg.HTTP.WriteTimeout,
		IdleTimeout:      cfg.HTTP.IdleTimeout,
		TrustedProxies:   cfg.HTTP.TrustedProxies,
		ShutdownTimeout:  cfg.HTTP.ShutdownTimeout,
		RateLimitEnabled: cfg.Auth.RateLimitEnabled,
		CORS: api.CORSOptions{
			AllowedOrigins:   cfg.CORS.AllowedOrigins,
			AllowCredentials: cfg.CORS.AllowCredentials,
			AllowedMethods:   cfg.CORS.AllowedMethods,
			AllowedHeaders:   cfg.CORS.AllowedHeaders,
			ExposedHeaders:   cfg.CORS.ExposedHeaders,
			MaxAge:           cfg.CORS.MaxAge,
		},
	})

	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.HTTP.Addr, err)
	}
	metrics, metricsAddr, err := startMetrics(ctx, cfg.HTTP.MetricsAddr, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("app_started", "addr", ln.Addr().String(), "metrics_addr", metricsAddr)
	if onListening != nil {
		onListening(ln.Addr().String(), metricsAddr)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("app_stopping", "drain_timeout", cfg.HTTP.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if metrics != nil {
		_ = metrics.Shutdown(sctx)
	}
	log.Info("app_stopped")
	return err
}

func storeOptions(cfg *config.Config) objstore.Options {
	return objstore.Options{
		Endpoint:       cfg.S3.Endpoint,
		PublicEndpoint: cfg.S3.PublicEndpoint,
		Region:         cfg.S3.Region,
		AccessKey:      cfg.S3.AccessKey,
		SecretKey:      cfg.S3.SecretKey,
		Bucket:         cfg.S3.Bucket,
		ForcePathStyle: cfg.S3.ForcePathStyle,
	}
}

// verifyBucket logs whether the bucket answers at start. It never blocks
// start-up: storage may come back later, and /health reports it meanwhile.
func verifyBucket(ctx context.Context, store *objstore.Store, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := store.Check(ctx); err != nil {
		log.Warn("s3_bucket_not_found", "logger", "storage", "bucket", store.Bucket(), "error", err)
		return
	}
	log.Info("s3_bucket_verified", "logger", "storage", "bucket", store.Bucket())
}

// startMetrics serves /livez (and later /metrics) on the internal listener,
// which is never proxied publicly.
func startMetrics(ctx context.Context, addr string, log *slog.Logger) (*http.Server, string, error) {
	if addr == "" {
		return nil, "", nil
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics_listener_failed", "error", err)
		}
	}()
	return srv, ln.Addr().String(), nil
}

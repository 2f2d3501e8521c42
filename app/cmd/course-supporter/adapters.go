package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/objstore"
	"github.com/course-supporter/course-supporter/app/postgres"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func storeOptions(cfg *config.Config) objstore.Options {
	return objstore.Options{
		Endpoint:       cfg.S3.Endpoint,
		PublicEndpoint: cfg.S3.PublicEndpoint,
		Region:         cfg.S3.Region,
		AccessKey:      cfg.S3.AccessKey,
		SecretKey:      cfg.S3.SecretKey,
		Bucket:         cfg.S3.Bucket,
		ForcePathStyle: cfg.S3.ForcePathStyle,
		PartSize:       cfg.Upload.PartSizeBytes,
	}
}

// verifyBucket logs whether the bucket answers at start. openDeps runs it
// in the background, so it never delays start-up (a HeadBucket round trip,
// up to 5 s while storage is down): storage may come back later, and
// /health reports it meanwhile.
func verifyBucket(ctx context.Context, store *objstore.Store, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := store.Check(ctx); err != nil {
		log.Warn("s3_bucket_not_found", "logger", "storage", "bucket", store.Bucket(), "error", err)
		return
	}
	log.Info("s3_bucket_verified", "logger", "storage", "bucket", store.Bucket())
}

// newRegistry holds the process's metrics: Go runtime, process, the
// database pool, and whatever the components register.
func newRegistry(db *postgres.DB) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		db.Collector(), db.QueueCollector())
	return reg
}

// startMetrics serves /livez and /metrics on the internal listener, which
// is never proxied publicly. /livez answers 503 while live reports false
// (a worker whose heartbeat writes fail).
func startMetrics(ctx context.Context, addr string, reg *prometheus.Registry, live func() bool, log *slog.Logger) (*http.Server, string, error) {
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
		if !live() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"stale heartbeat"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mountPprof(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics_listener_failed", "error", err)
		}
	}()
	return srv, ln.Addr().String(), nil
}

package main

import (
	"context"

	"github.com/spf13/cobra"
)

// workerCmd runs the background workers alone, for hosts that separate
// them from the API.
func workerCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the background workers (River queues); /livez on METRICS_ADDR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := e.loadConfig("worker")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			d, err := openDeps(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer d.db.Close()
			reg := newRegistry(d.db)
			runner, err := startWorkers(ctx, cfg, d, reg, log)
			if err != nil {
				return err
			}
			metrics, metricsAddr, err := startMetrics(ctx, cfg.HTTP.MetricsAddr, reg, runner.heartbeat.Live, log)
			if err != nil {
				_ = runner.Stop(context.WithoutCancel(ctx))
				return err
			}
			if e.onListening != nil {
				e.onListening("", metricsAddr)
			}
			<-ctx.Done()
			log.Info("worker_stopping", "logger", "worker")
			err = runner.Stop(context.WithoutCancel(ctx))
			if metrics != nil {
				_ = metrics.Shutdown(context.WithoutCancel(ctx))
			}
			return err
		},
	}
}

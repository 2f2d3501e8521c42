package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/logging"
)

// env is everything the program takes from its surroundings, so tests can
// run the real commands in-process.
type env struct {
	args   []string
	lookup config.LookupFunc
	stdout io.Writer
	stderr io.Writer
	// onListening, when set, receives the bound addresses of serve (tests
	// listen on :0).
	onListening func(api, metrics string)
	// admin, when set, serves the admin commands instead of the database
	// (tests of their output use the contract-checked in-memory fake).
	admin course.AdminService
}

// run executes one command line. ctx ending is the shutdown signal.
func run(ctx context.Context, e env) error {
	root := &cobra.Command{
		Use:           "course-supporter",
		Short:         "Course Supporter: course materials in, structured course outline out",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(e.args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		serveCmd(&e),
		workerCmd(&e),
		migrateCmd(&e),
		healthcheckCmd(&e),
		versionCmd(&e),
		tenantCmd(&e), keyCmd(&e), devBootstrapCmd(&e),
	)
	err := root.ExecuteContext(ctx)
	if err != nil && isUnknownCommand(err) {
		return usageError{err}
	}
	return err
}

func isUnknownCommand(err error) bool {
	msg := err.Error()
	return len(msg) > 16 && (msg[:16] == "unknown command " || msg[:15] == "unknown flag: -")
}

// loadConfig parses the environment and builds the process logger. Servers
// log to stdout; CLI commands log to stderr so their stdout stays parseable.
func (e *env) loadConfig(component string) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	w := e.stderr
	if component == "http" || component == "worker" {
		w = e.stdout
	}
	log := logging.New(w, logging.Options{Format: cfg.LogFormat, Level: cfg.LogLevel, Version: version})
	log.Info("config_loaded", "logger", component, "config", cfg)
	return cfg, log, nil
}

// loadAdminConfig parses only what the database commands use (tenant,
// key, migrate). They log to stderr, at the configured level, and do not
// log config_loaded: their output is for people and scripts.
func (e *env) loadAdminConfig() (*config.Admin, error) {
	cfg, err := config.LoadAdmin(e.lookup)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(e.stdout, "course-supporter %s (commit %s, built %s)\n", version, commit, buildDate)
			return err
		},
	}
}

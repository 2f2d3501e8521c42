package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/postgres"
)

// migrateCmd applies the embedded migrations. It is never run implicitly
// by serve or worker: deploys run it explicitly, before traffic switches.
func migrateCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back or inspect database migrations (under an advisory lock)",
	}
	with := func(fn func(cmd *cobra.Command, m *postgres.Migrator, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadAdminConfig()
			if err != nil {
				return err
			}
			db, err := postgres.Open(cmd.Context(), cfg.Database.URL, postgres.Options{MaxConns: 2})
			if err != nil {
				return err
			}
			defer db.Close()
			m, err := postgres.NewMigrator(db.SQL, nil)
			if err != nil {
				return err
			}
			return fn(cmd, m, args)
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use: "up", Short: "Apply every pending migration", Args: cobra.NoArgs,
			RunE: with(func(cmd *cobra.Command, m *postgres.Migrator, _ []string) error {
				return m.Up(cmd.Context(), e.stdout)
			}),
		},
		&cobra.Command{
			Use: "down [n]", Short: "Roll back the newest n migrations (default 1)", Args: cobra.MaximumNArgs(1),
			RunE: with(func(cmd *cobra.Command, m *postgres.Migrator, args []string) error {
				n := 1
				if len(args) == 1 {
					v, err := strconv.Atoi(args[0])
					if err != nil || v < 1 {
						return usageError{fmt.Errorf("migrate down: n must be a positive integer")}
					}
					n = v
				}
				return m.Down(cmd.Context(), e.stdout, n)
			}),
		},
		&cobra.Command{
			Use: "status", Short: "List migrations and whether each is applied", Args: cobra.NoArgs,
			RunE: with(func(cmd *cobra.Command, m *postgres.Migrator, _ []string) error {
				return m.Status(cmd.Context(), e.stdout)
			}),
		},
		&cobra.Command{
			Use: "version", Short: "Print the current schema version", Args: cobra.NoArgs,
			RunE: with(func(cmd *cobra.Command, m *postgres.Migrator, _ []string) error {
				v, err := m.Version(cmd.Context())
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(e.stdout, v)
				return err
			}),
		},
	)
	return cmd
}

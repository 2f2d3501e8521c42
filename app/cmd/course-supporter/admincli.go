package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// adminFunc is the body of an admin command. It sees only the domain's
// interface, so the commands hold no storage logic and their behaviour is
// the contract course.AdminService documents.
type adminFunc func(ctx context.Context, admin course.AdminService) error

// withAdmin reads only the admin configuration (the database and the key
// defaults: no storage credentials, no config_loaded line), opens a small
// pool and runs fn with the admin service (or with e.admin, in tests).
func withAdmin(e *env, cmd *cobra.Command, fn adminFunc) error {
	cfg, err := e.loadAdminConfig()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if e.admin != nil {
		return cliError(fn(ctx, e.admin))
	}
	db, err := postgres.Open(ctx, cfg.Database.URL, postgres.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	admin := postgres.NewAdminService(db, course.KeyDefaults{RatePrep: cfg.RatePrepDefault, RateCheck: cfg.RateCheckDefault})
	return cliError(fn(ctx, admin))
}

// adminError shows a domain error to an operator as its message alone.
type adminError struct {
	err *course.Error
}

func (a adminError) Error() string { return "error: " + a.err.Message }
func (a adminError) Unwrap() error { return a.err }

// cliError turns domain errors into plain messages; other errors (the
// database is down, ...) keep their full text, which an operator needs.
func cliError(err error) error {
	var de *course.Error
	if errors.As(err, &de) {
		return adminError{err: de}
	}
	return err
}

// usagef is a command-line mistake: exit code 2.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// requireFlag fails with a usage error when a string flag is empty.
func requireFlag(name, value string) error {
	if strings.TrimSpace(value) == "" {
		return usagef("required flag --%s is missing", name)
	}
	return nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns for people.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// fmtTime is the table format of an optional timestamp.
func fmtTime(at *time.Time, none string) string {
	if at == nil {
		return none
	}
	return at.UTC().Format(time.RFC3339)
}

// shellQuote returns s ready to paste into a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// groupRunE makes a command group print its help when called bare, and
// reject an unknown subcommand as a usage error (exit 2).
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

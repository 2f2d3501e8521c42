package jobs_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite migrations/00003_river.sql from the pinned River version")

const riverFile = "../../migrations/00003_river.sql"

// riverGoose renders River's own migrations, for the River version pinned
// in go.mod, as one goose migration: one tool owns the schema, and the
// river_migration table records the versions so rivermigrate agrees.
func riverGoose(t *testing.T) string {
	t.Helper()
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	all := m.AllVersions()
	clean := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "/* TEMPLATE: schema */", "")) }
	var b strings.Builder
	b.WriteString("-- Generated from River's migrations; do not edit. Regenerate with\n")
	b.WriteString("-- go test ./app/jobs -run TestRiverMigrationIsCurrent -update\n\n")
	b.WriteString("-- +goose Up\n-- +goose StatementBegin\n")
	for _, v := range all {
		fmt.Fprintf(&b, "-- River migration %03d %s\n%s\n\n", v.Version, v.Name, clean(v.SQLUp))
	}
	b.WriteString("INSERT INTO river_migration (line, version) VALUES\n")
	for i, v := range all {
		sep := ","
		if i == len(all)-1 {
			sep = ";"
		}
		fmt.Fprintf(&b, "    ('main', %d)%s\n", v.Version, sep)
	}
	b.WriteString("-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\n")
	for i := len(all) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "-- River migration %03d down\n%s\n\n", all[i].Version, clean(all[i].SQLDown))
	}
	b.WriteString("-- +goose StatementEnd\n")
	return b.String()
}

// Ensure the committed River migration matches the River version in go.mod.
func TestRiverMigrationIsCurrent(t *testing.T) {
	want := riverGoose(t)
	if *update {
		if err := os.WriteFile(riverFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(riverFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("migrations/00003_river.sql is stale; run go test ./app/jobs -run TestRiverMigrationIsCurrent -update")
	}
}

// Ensure rivermigrate sees the schema applied by goose as complete.
func TestRiverSchemaIsComplete(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Validate(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("river schema incomplete: %v", res.Messages)
	}
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

var devKeyFormat = regexp.MustCompile(`cs_test_[0-9a-f]{32}`)

// devVars is the environment `make run` gives dev-bootstrap.
func devVars(dsn string) map[string]string {
	return map[string]string{"DATABASE_URL": dsn, "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b",
		"LOG_LEVEL": "error", "ENVIRONMENT": "development"}
}

// devKeys counts the active keys of tenant "dev".
func devKeys(t *testing.T, dsn string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
		WHERE t.name = 'dev' AND k.is_active`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Ensure every `make run` prints a key that works: the first run creates
// and stores one, later runs print the stored key without creating more,
// and a revoked stored key is replaced, also when other tenants exist.
func TestDevBootstrapPrintsAWorkingKeyEveryTime(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	vars := devVars(dsn)
	file := filepath.Join(t.TempDir(), "dev", "api-key")
	mustCLI(t, vars, "tenant", "create", "--name", "someone-else")

	out := mustCLI(t, vars, "dev-bootstrap", "--key-file", file)
	key := devKeyFormat.FindString(out)
	stored, err := os.ReadFile(file)
	if err != nil || key == "" || strings.TrimSpace(string(stored)) != key || !strings.Contains(out, "new, saved to "+file) {
		t.Fatalf("first run: stored %q, output:\n%s", stored, out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}

	out = mustCLI(t, vars, "dev-bootstrap", "--key-file", file)
	if devKeyFormat.FindString(out) != key || !strings.Contains(out, "kept in "+file) || devKeys(t, dsn) != 1 {
		t.Fatalf("second run should reuse %s (active keys %d):\n%s", key, devKeys(t, dsn), out)
	}

	mustCLI(t, vars, "key", "revoke", "--prefix", key[:16])
	out = mustCLI(t, vars, "dev-bootstrap", "--key-file", file)
	fresh := devKeyFormat.FindString(out)
	if fresh == "" || fresh == key || devKeys(t, dsn) != 1 {
		t.Fatalf("after revoking, want a new key (active keys %d):\n%s", devKeys(t, dsn), out)
	}
	if stored, _ := os.ReadFile(file); strings.TrimSpace(string(stored)) != fresh {
		t.Fatalf("file holds %q, want the new key", stored)
	}

	// A deactivated dev tenant is re-activated rather than left broken.
	mustCLI(t, vars, "tenant", "deactivate", "--name", "dev")
	out = mustCLI(t, vars, "dev-bootstrap", "--key-file", file)
	if k := devKeyFormat.FindString(out); k == "" || k == fresh {
		t.Fatalf("after deactivating the tenant, want a new working key:\n%s", out)
	}
}

// Ensure dev-bootstrap exits 1 in production and creates nothing.
func TestDevBootstrapRefusesProduction(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	prod := devVars(dsn)
	prod["ENVIRONMENT"] = "production"
	file := filepath.Join(t.TempDir(), "api-key")
	code, out, errOut := cliExit(t, prod, "dev-bootstrap", "--key-file", file)
	if code != 1 || out != "" || !strings.Contains(errOut, "production") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if devKeys(t, dsn) != 0 {
		t.Fatal("a key was created in production mode")
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("key file written: %v", err)
	}
}

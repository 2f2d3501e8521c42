package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

var cliKeyFormat = regexp.MustCompile(`^cs_(live|test)_[0-9a-f]{32}$`)

// adminVars is the environment of admin commands: a database and dummy
// S3 credentials (admin commands never touch storage).
func adminVars(dsn string) map[string]string {
	return map[string]string{"DATABASE_URL": dsn, "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b",
		"LOG_LEVEL": "error", "ENVIRONMENT": "testing"}
}

// cliRun runs one command line of the real program in-process.
func cliRun(vars map[string]string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), env{args: args, stdout: &out, stderr: &errOut,
		lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	return out.String(), errOut.String(), err
}

func mustCLI(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	out, errOut, err := cliRun(vars, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errOut)
	}
	return out
}

// cliExit runs the built binary and returns its exit code and output.
func cliExit(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(mustBuild(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

type cliTenant struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	IsActive   bool   `json:"is_active"`
	ActiveKeys int    `json:"active_keys"`
}

type cliKey struct {
	Key            string     `json:"key"`
	ID             string     `json:"id"`
	Tenant         string     `json:"tenant"`
	Prefix         string     `json:"prefix"`
	Label          string     `json:"label"`
	Scopes         []string   `json:"scopes"`
	RateLimitPrep  int        `json:"rate_limit_prep"`
	RateLimitCheck int        `json:"rate_limit_check"`
	Status         string     `json:"status"`
	ExpiresAt      *time.Time `json:"expires_at"`
}

// mustJSON decodes the whole of out, so anything else on stdout fails.
func mustJSON[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	return v
}

// Ensure a duplicate tenant name exits 1 with the reason on stderr alone.
func TestTenantCreateDuplicateExitsOne(t *testing.T) {
	t.Parallel()
	vars := adminVars(testdb.New(t))
	code, out, _ := cliExit(t, vars, "tenant", "create", "--name", "acme")
	if code != 0 || !strings.Contains(out, "Tenant 'acme' created") {
		t.Fatalf("first create: exit %d, %q", code, out)
	}
	code, out, errOut := cliExit(t, vars, "tenant", "create", "--name", "acme")
	if code != 1 || out != "" || strings.TrimSpace(errOut) != "error: Tenant 'acme' already exists" {
		t.Fatalf("duplicate: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Ensure bad key input exits 1 (domain errors) or 2 (usage) with a clear
// message, prints nothing on stdout and creates no key.
func TestKeyCreateBadInputExitCodes(t *testing.T) {
	t.Parallel()
	vars := adminVars(testdb.New(t))
	mustCLI(t, vars, "tenant", "create", "--name", "acme")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--tenant", "acme", "--scopes", "prep,admin"}, 1, "error: Unknown scope 'admin'; allowed: prep, check"},
		{[]string{"--tenant", "ghost", "--scopes", "prep"}, 1, "error: Tenant 'ghost' not found"},
		{[]string{"--tenant", "acme", "--scopes", "prep", "--env", "prod"}, 1, "error: Unknown key environment 'prod'"},
		{[]string{"--tenant", "acme"}, 2, "--scopes is missing"},
		{[]string{"--scopes", "prep"}, 2, "--tenant is missing"},
		{[]string{"--tenant", "acme", "--scopes", "prep", "--expires-in", "soon"}, 2, `--expires-in "soon"`},
		{[]string{"--tenant", "acme", "--scopes", "prep", "--expires-in", "1d", "--expires-at", "2099-01-01T00:00:00Z"}, 2, "not both"},
		{[]string{"--tenant", "acme", "--scopes", "prep", "--rate-check", "0"}, 2, "--rate-check must be greater than 0"},
	}
	for _, tc := range cases {
		code, out, errOut := cliExit(t, vars, append([]string{"key", "create"}, tc.args...)...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), stdout %q, stderr %q (want %q)", tc.args, code, tc.code, out, errOut, tc.want)
		}
	}
	if keys := mustJSON[[]cliKey](t, mustCLI(t, vars, "key", "list", "--tenant", "acme", "--json")); len(keys) != 0 {
		t.Fatalf("keys were created: %+v", keys)
	}
}

// Ensure `key create --json` prints only JSON holding the key and its
// settings (limits default from the config), the warning goes to stderr,
// and the secret never appears in any listing afterwards.
func TestKeyCreateJSONHoldsKeyOnce(t *testing.T) {
	t.Parallel()
	vars := adminVars(testdb.New(t))
	vars["RATE_LIMIT_PREP_DEFAULT"], vars["RATE_LIMIT_CHECK_DEFAULT"] = "13", "17"
	mustCLI(t, vars, "tenant", "create", "--name", "acme")
	out, errOut, err := cliRun(vars, "key", "create", "--tenant", "acme", "--scopes", "check,prep",
		"--label", "ci", "--expires-in", "90d", "--json")
	if err != nil {
		t.Fatal(err)
	}
	k := mustJSON[cliKey](t, out)
	if !cliKeyFormat.MatchString(k.Key) || !strings.HasPrefix(k.Key, "cs_live_") || k.Prefix != k.Key[:16] {
		t.Fatalf("key %q prefix %q", k.Key, k.Prefix)
	}
	if k.Tenant != "acme" || k.Label != "ci" || strings.Join(k.Scopes, ",") != "prep,check" ||
		k.RateLimitPrep != 13 || k.RateLimitCheck != 17 || k.Status != "active" {
		t.Fatalf("key %+v", k)
	}
	if want := time.Now().Add(90 * 24 * time.Hour); k.ExpiresAt == nil || k.ExpiresAt.Sub(want).Abs() > time.Minute {
		t.Fatalf("expires_at %v, want about %v", k.ExpiresAt, want)
	}
	if !strings.Contains(errOut, "will not be shown again") {
		t.Fatalf("stderr lacks the warning: %q", errOut)
	}
	listJSON := mustCLI(t, vars, "key", "list", "--tenant", "acme", "--json")
	keys := mustJSON[[]cliKey](t, listJSON)
	if len(keys) != 1 || keys[0].ID != k.ID || keys[0].Key != "" || keys[0].Status != "active" {
		t.Fatalf("list %+v", keys)
	}
	for _, listing := range []string{listJSON, mustCLI(t, vars, "key", "list", "--tenant", "acme"),
		mustCLI(t, vars, "tenant", "list"), mustCLI(t, vars, "tenant", "list", "--json")} {
		if strings.Contains(listing, k.Key) || strings.Contains(listing, k.Key[16:]) {
			t.Fatalf("a listing shows the secret:\n%s", listing)
		}
	}
}

// Ensure the admin commands answer --help, dev-bootstrap stays out of the
// command list, and misuse exits 2.
func TestAdminHelpAndUsage(t *testing.T) {
	t.Parallel()
	vars := adminVars("postgres://x:y@127.0.0.1:1/none")
	for _, args := range [][]string{{"tenant", "--help"}, {"tenant", "create", "--help"}, {"key"},
		{"key", "create", "--help"}, {"key", "revoke", "--help"}, {"dev-bootstrap", "--help"}} {
		if code, out, _ := cliExit(t, vars, args...); code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if _, out, _ := cliExit(t, vars, "--help"); strings.Contains(out, "dev-bootstrap") || !strings.Contains(out, "tenant") {
		t.Errorf("root help:\n%s", out)
	}
	for _, args := range [][]string{{"tenant", "frobnicate"}, {"key", "revoke"}, {"key", "revoke", "--prefix", "p", "--id", "i"},
		{"key", "revoke", "--id", "not-a-uuid"}, {"tenant", "create"}, {"key", "list", "--bogus"}} {
		if code, _, _ := cliExit(t, vars, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// Ensure the admin and migrate commands need only the database: no S3
// credentials, no server settings, and no config_loaded line on stderr.
func TestAdminCommandsNeedOnlyTheDatabase(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": testdb.New(t)}
	for _, args := range [][]string{{"migrate", "version"}, {"tenant", "create", "--name", "acme"},
		{"key", "create", "--tenant", "acme", "--scopes", "prep"}, {"tenant", "list"}, {"key", "list", "--tenant", "acme"}} {
		code, _, errOut := cliExit(t, vars, args...)
		if code != 0 || strings.Contains(errOut, "config_loaded") || strings.Contains(errOut, "S3_") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/admintest"
)

// fakeCLI runs admin command lines in-process against the in-memory
// admin fake, which keeps the same contract as the PostgreSQL store
// (admintest.Run checks both), so tests of what the commands print need
// no database. The configuration is still read; the database is never
// dialled.
type fakeCLI struct {
	t    *testing.T
	fake *admintest.Fake
	vars map[string]string
}

func newFakeCLI(t *testing.T) *fakeCLI {
	return &fakeCLI{t: t, fake: admintest.NewFake(admintest.Defaults), vars: adminVars("postgres://x:y@127.0.0.1:1/none")}
}

// run returns the exit code main would give and both outputs.
func (c *fakeCLI) run(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), env{args: args, stdout: &out, stderr: &errOut, admin: c.fake,
		lookup: func(k string) (string, bool) { v, ok := c.vars[k]; return v, ok }})
	code = exitCode(err, &errOut)
	return code, out.String(), errOut.String()
}

// must runs args and fails unless they exit 0.
func (c *fakeCLI) must(args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code != 0 {
		c.t.Fatalf("%v: exit %d\n%s", args, code, errOut)
	}
	return out
}

// Ensure `tenant list --json` parses and reflects status and key counts.
func TestTenantListJSONParses(t *testing.T) {
	t.Parallel()
	c := newFakeCLI(t)
	if ts := mustJSON[[]cliTenant](t, c.must("tenant", "list", "--json")); ts == nil || len(ts) != 0 {
		t.Fatalf("empty list: %+v (want [])", ts)
	}
	c.must("tenant", "create", "--name", "beta")
	c.must("tenant", "create", "--name", "alpha")
	c.must("key", "create", "--tenant", "alpha", "--scopes", "prep")
	c.must("tenant", "deactivate", "--name", "beta")
	ts := mustJSON[[]cliTenant](t, c.must("tenant", "list", "--json"))
	if len(ts) != 2 || ts[0].Name != "alpha" || !ts[0].IsActive || ts[0].ActiveKeys != 1 || ts[0].ID == "" ||
		ts[1].Name != "beta" || ts[1].IsActive || ts[1].ActiveKeys != 0 {
		t.Fatalf("tenants %+v", ts)
	}
}

// assertAligned fails unless every row has a value starting exactly
// under each header column, after a space.
func assertAligned(t *testing.T, out string, rows int, headers ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != rows+1 {
		t.Fatalf("want %d rows:\n%s", rows, out)
	}
	for _, h := range headers {
		pos := strings.Index(lines[0], h)
		if pos < 0 {
			t.Fatalf("no header %q:\n%s", h, out)
		}
		for _, l := range lines[1:] {
			if len(l) <= pos || l[pos] == ' ' || (pos > 0 && l[pos-1] != ' ') {
				t.Fatalf("column %q (offset %d) is not aligned:\n%s", h, pos, out)
			}
		}
	}
}

// Ensure the tables for people line values up under their headers.
func TestAdminTablesAlignColumns(t *testing.T) {
	t.Parallel()
	c := newFakeCLI(t)
	c.must("tenant", "create", "--name", "a")
	c.must("tenant", "create", "--name", "a-tenant-with-a-long-name")
	c.must("key", "create", "--tenant", "a", "--scopes", "check", "--label", "x")
	c.must("key", "create", "--tenant", "a", "--scopes", "prep,check", "--label", "a-much-longer-label",
		"--rate-prep", "5", "--rate-check", "12345", "--expires-in", "1h")
	assertAligned(t, c.must("tenant", "list"), 2, "NAME", "STATUS", "ACTIVE KEYS", "CREATED", "ID")
	assertAligned(t, c.must("key", "list", "--tenant", "a"), 2,
		"ID", "PREFIX", "LABEL", "SCOPES", "PREP/MIN", "CHECK/MIN", "STATUS", "EXPIRES", "LAST USED", "CREATED")
}

// Ensure a prefix matching several active keys exits 1 listing their ids
// and revokes none; revoking by id works once, then exits 1. Among
// seventeen keys two always share their first hex character.
func TestKeyRevokeAmbiguousPrefixExitsOne(t *testing.T) {
	t.Parallel()
	c := newFakeCLI(t)
	c.must("tenant", "create", "--name", "acme")
	byFirst := map[string][]cliKey{}
	var prefix string
	for range 17 {
		k := mustJSON[cliKey](t, c.must("key", "create", "--tenant", "acme", "--scopes", "prep", "--json"))
		byFirst[k.Prefix[:9]] = append(byFirst[k.Prefix[:9]], k)
		if len(byFirst[k.Prefix[:9]]) == 2 && prefix == "" {
			prefix = k.Prefix[:9]
		}
	}
	group := byFirst[prefix]
	code, out, errOut := c.run("key", "revoke", "--prefix", prefix)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: ") || !strings.Contains(errOut, "active keys") {
		t.Fatalf("ambiguous: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, k := range group {
		if !strings.Contains(errOut, k.ID) {
			t.Fatalf("ambiguous: stderr %q lacks %s", errOut, k.ID)
		}
	}
	k1 := group[0]
	if code, out, errOut := c.run("key", "revoke", "--id", k1.ID); code != 0 ||
		!strings.Contains(out, "Key "+k1.Prefix+" (id "+k1.ID+", tenant 'acme', label 'default') revoked at ") {
		t.Fatalf("by id: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := c.run("key", "revoke", "--id", k1.ID); code != 1 || !strings.Contains(errOut, "already revoked") {
		t.Fatalf("again: exit %d, %q", code, errOut)
	}
	keys := mustJSON[[]cliKey](t, c.must("key", "list", "--tenant", "acme", "--json"))
	active := 0
	for _, k := range keys {
		switch {
		case k.ID == k1.ID && k.Status != "revoked", k.ID != k1.ID && k.Status != "active":
			t.Fatalf("key %+v", k)
		case k.Status == "active":
			active++
		}
	}
	if len(keys) != 17 || active != 16 {
		t.Fatalf("%d keys, %d active", len(keys), active)
	}
}

// Ensure `tenant create --json` prints exactly one object with the id,
// name, status and creation time.
func TestTenantCreateJSON(t *testing.T) {
	t.Parallel()
	c := newFakeCLI(t)
	out := c.must("tenant", "create", "--name", "acme", "--json")
	got := mustJSON[map[string]any](t, out)
	if len(got) != 4 || got["name"] != "acme" || got["status"] != "active" || got["id"] == "" || got["created_at"] == nil {
		t.Fatalf("tenant create --json: %s", out)
	}
	if _, err := time.Parse(time.RFC3339, got["created_at"].(string)); err != nil {
		t.Fatalf("created_at: %v", err)
	}
	ts := mustJSON[[]map[string]any](t, c.must("tenant", "list", "--json"))
	if len(ts) != 1 || ts[0]["id"] != got["id"] || ts[0]["status"] != "active" {
		t.Fatalf("tenant list --json: %+v", ts)
	}
}

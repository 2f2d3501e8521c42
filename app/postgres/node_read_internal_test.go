package postgres

import (
	"os"
	"strings"
	"testing"
)

// Ensure bench/read's pgbench script runs the tree statement the store
// runs (with pgbench's :root and :tenant for $1 and $2), so the benchmark's
// ratio compares like with like.
func TestBenchTreeSQLMatchesStore(t *testing.T) {
	b, err := os.ReadFile("../../bench/read/tree.sql")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string {
		return strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(s), ";")), " ")
	}
	got := strings.NewReplacer(":root", "$1", ":tenant", "$2").Replace(string(b))
	if norm(got) != norm(treeSQL) {
		t.Fatalf("bench/read/tree.sql differs from treeSQL:\n%s\n---\n%s", norm(got), norm(treeSQL))
	}
}

package deploytest

import (
	"strconv"
	"strings"
	"testing"
)

// parseGoMemLimit parses GOMEMLIMIT's syntax (a byte count with an
// optional B, KiB, MiB or GiB suffix).
func parseGoMemLimit(tb testing.TB, v string) int64 {
	tb.Helper()
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = n, m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(v, "B"), 10, 64)
	if err != nil {
		tb.Fatalf("GOMEMLIMIT %q: %v", v, err)
	}
	return n * mult
}

// Ensure the Go processes know their container's memory limit: GOMEMLIMIT
// is set for app and worker between 60% and 85% of mem_limit (the GC works
// harder before the kernel OOM-kills, and child processes keep room), and
// the per-service environment still carries the shared pinned values.
func TestGoMemLimitFollowsMemLimit(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	for _, name := range []string{"app", "worker"} {
		s := p.Services[name]
		v := s.Environment["GOMEMLIMIT"]
		if v == nil {
			t.Errorf("%s: GOMEMLIMIT is not set", name)
			continue
		}
		limit, mem := parseGoMemLimit(t, *v), int64(s.MemLimit)
		if limit < mem*60/100 || limit > mem*85/100 {
			t.Errorf("%s: GOMEMLIMIT %s is not 60-85%% of mem_limit %d MiB", name, *v, mem/mib)
		}
		if h := s.Environment["POSTGRES_HOST"]; h == nil || *h != "postgres-cs" {
			t.Errorf("%s: the shared environment was lost (POSTGRES_HOST = %v)", name, h)
		}
	}
}

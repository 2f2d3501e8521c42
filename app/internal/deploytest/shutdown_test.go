package deploytest

import (
	"path/filepath"
	"testing"
	"time"
)

// Stop phases of the processes (app/cmd/course-supporter serve and worker,
// app/jobs Runner.Stop): the app drains HTTP and stops its in-process
// workers at once within SHUTDOWN_TIMEOUT; a worker process stops softly
// for WORKER_SHUTDOWN_TIMEOUT, then cancels for at most runnerHardStop.
const (
	runnerHardStop = 10 * time.Second
	exitMargin     = 5 * time.Second
)

// Ensure a deploy never SIGKILLs work in progress: each service's
// stop_grace_period in docker-compose.yml covers its process's whole stop
// budget as .env.prod.example configures it. Before, serve drained HTTP
// (30 s) and only then stopped its workers (60 s soft + 10 s), 100 s
// against a 40 s grace.
func TestStopGraceFitsShutdownBudget(t *testing.T) {
	root := repoRoot(t)
	_, env := MustReadEnvFile(t, filepath.Join(root, ".env.prod.example"))
	dur := func(k string) time.Duration {
		d, err := time.ParseDuration(env[k])
		if err != nil {
			t.Fatalf(".env.prod.example %s=%q: %v", k, env[k], err)
		}
		return d
	}
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	grace := func(name string) time.Duration {
		s, ok := p.Services[name]
		if !ok || s.StopGracePeriod == nil {
			t.Fatalf("%s: no stop_grace_period", name)
		}
		return time.Duration(*s.StopGracePeriod)
	}
	if need, got := dur("SHUTDOWN_TIMEOUT")+exitMargin, grace("app"); got < need {
		t.Errorf("app: stop_grace_period %s < SHUTDOWN_TIMEOUT + %s = %s", got, exitMargin, need)
	}
	if need, got := dur("WORKER_SHUTDOWN_TIMEOUT")+runnerHardStop+exitMargin, grace("worker"); got < need {
		t.Errorf("worker: stop_grace_period %s < WORKER_SHUTDOWN_TIMEOUT + %s + %s = %s", got, runnerHardStop, exitMargin, need)
	}
}

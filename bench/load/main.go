// Command load is the load test and fault drill of bench/load/run.sh
// (docs/performance.md, "Load and fault drill"): C keep-alive clients
// spread over the tenants of a key file send a mix of tree reads, node
// creates and moves, small uploads and material reads to a running
// `serve` for a fixed time; then it checks, in PostgreSQL and in the
// bucket listing, that every acknowledged write is there and nothing
// dangles, and prints per-operation figures and "RESULT" lines.
//
// With -faults it also restarts PostgreSQL and stops the S3 server for a
// while during the run (through the commands run.sh gives it), and checks
// that requests in the outage get a 503 with {"detail": ...} in time and
// that the service recovers by itself.
//
// It exits 1 when a check fails, so a short run is a smoke test.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

type config struct {
	base, keys, dsn                     string
	s3Endpoint, s3Bucket, s3Key, s3Sec  string
	conns                               int
	dur, timeout, settle, reaper, grace time.Duration
	faults                              bool
	pgRestart, s3Stop, s3Start          string
	pgAt, s3At, s3Down                  time.Duration
	seed                                int64
}

func main() {
	var c config
	flag.StringVar(&c.base, "url", "", "base URL of serve (http://127.0.0.1:PORT)")
	flag.StringVar(&c.keys, "keys", "", "key file: one 'tenant key prep_limit check_limit' per line")
	flag.StringVar(&c.dsn, "dsn", "", "database URL for the checks after the run")
	flag.StringVar(&c.s3Endpoint, "s3-endpoint", "", "S3 endpoint for the bucket listing")
	flag.StringVar(&c.s3Bucket, "s3-bucket", "", "bucket")
	flag.StringVar(&c.s3Key, "s3-access-key", "", "S3 access key")
	flag.StringVar(&c.s3Sec, "s3-secret-key", "", "S3 secret key")
	flag.IntVar(&c.conns, "c", 200, "clients (one keep-alive connection and one request in flight each)")
	flag.DurationVar(&c.dur, "d", 60*time.Second, "duration of the load")
	flag.DurationVar(&c.timeout, "timeout", 15*time.Second, "client timeout: a request slower than this is a hang")
	flag.DurationVar(&c.settle, "settle", 120*time.Second, "longest wait for the queue to drain after the load")
	flag.DurationVar(&c.reaper, "reaper", 0, "JOB_REAPER_INTERVAL of the worker: the checks wait two periods after the drain")
	flag.DurationVar(&c.grace, "grace", 5*time.Second, "after an outage ends, how long 503s still count as the outage's")
	flag.BoolVar(&c.faults, "faults", false, "fault drill: restart PostgreSQL and stop S3 during the load")
	flag.StringVar(&c.pgRestart, "pg-restart-cmd", "", "shell command that restarts PostgreSQL (returns when it is back)")
	flag.StringVar(&c.s3Stop, "s3-stop-cmd", "", "shell command that stops the S3 server")
	flag.StringVar(&c.s3Start, "s3-start-cmd", "", "shell command that starts the S3 server again")
	flag.DurationVar(&c.pgAt, "pg-at", 15*time.Second, "when the PostgreSQL restart starts")
	flag.DurationVar(&c.s3At, "s3-at", 30*time.Second, "when S3 stops")
	flag.DurationVar(&c.s3Down, "s3-down", 20*time.Second, "how long S3 stays down")
	flag.Int64Var(&c.seed, "seed", 1, "seed of the operation mix")
	flag.Parse()
	if c.base == "" || c.keys == "" || c.dsn == "" || c.s3Endpoint == "" || c.conns < 1 {
		fmt.Fprintln(os.Stderr, "usage: load -url URL -keys FILE -dsn DSN -s3-endpoint URL -s3-bucket B ... (see bench/load/run.sh)")
		os.Exit(2)
	}
	if c.faults && (c.pgRestart == "" || c.s3Stop == "" || c.s3Start == "") {
		fmt.Fprintln(os.Stderr, "load: -faults needs -pg-restart-cmd, -s3-stop-cmd and -s3-start-cmd")
		os.Exit(2)
	}
	ok, err := run(context.Background(), &c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if !ok {
		fmt.Println("FAIL")
		os.Exit(1)
	}
	fmt.Println("PASS")
}

func run(ctx context.Context, c *config) (bool, error) {
	tenants, err := readKeys(c.keys)
	if err != nil {
		return false, err
	}
	l := newLoad(c, tenants)
	if err := l.setup(ctx); err != nil {
		return false, fmt.Errorf("setup: %w", err)
	}
	fmt.Printf("load: %d clients, %s, %d tenants, faults=%v; machine load %s\n", c.conns, c.dur, len(tenants), c.faults, loadavg())
	outages := l.drive(ctx)
	fmt.Printf("load: done; machine load %s\n", loadavg())
	r := l.report(outages)
	v, err := l.verify(ctx, outages)
	if err != nil {
		return false, fmt.Errorf("verify: %w", err)
	}
	r.print()
	v.print()
	return r.ok() && v.ok(), nil
}

// shell runs a fault command with a time bound and says how long it took.
func shell(ctx context.Context, cmdline string, limit time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, "bash", "-c", cmdline).CombinedOutput() //nolint:gosec // the drill's own commands, from run.sh
	if err != nil {
		return time.Since(t0), fmt.Errorf("%s: %w: %s", cmdline, err, strings.TrimSpace(string(out)))
	}
	return time.Since(t0), nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

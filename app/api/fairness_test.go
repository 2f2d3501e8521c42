package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/fetch"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/logging"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// slowFiles makes every file named slow-* take delay to process: a
// tenant's heavy backlog without real heavy files.
type slowFiles struct {
	*ingest.Processor
	delay *atomic.Int64 // nanoseconds
}

func (p slowFiles) File(ctx context.Context, src ingest.Source) (*ingest.SourceDocument, error) {
	if strings.HasPrefix(src.Filename, "slow-") {
		select {
		case <-time.After(time.Duration(p.delay.Load())):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return p.Processor.File(ctx, src)
}

// withTenantSlots rebuilds the stack's stores on an enqueuer with the
// per-tenant limit of WORKER_INGEST_TENANT_SLOTS.
func (s *stack) withTenantSlots(n int) {
	s.t.Helper()
	eo := jobsconf.DefaultEnqueue()
	eo.TenantSlots = n
	enq, err := jobs.NewEnqueuer(s.db.SQL, eo)
	if err != nil {
		s.t.Fatal(err)
	}
	s.enq = enq
	s.deps.Nodes = postgres.NewNodeStore(s.db, enq)
	s.deps.Materials = postgres.NewMaterialStore(s.db, enq)
	s.deps.Jobs = postgres.NewJobStore(s.db, enq)
	s.build()
}

// TestOneTenantCannotHoldTheIngestQueue: tenant A starts a trickling URL
// and queues 20 documents that take a second each; tenant B's one
// Markdown file is ready within seconds, while A's backlog is still
// there. Before, B's file waited behind all of A's jobs (the trickle held
// the only slot for the fetch timeout, then A's 20 documents ran first).
func TestOneTenantCannotHoldTheIngestQueue(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	trickle := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-hang:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(trickle.Close)
	var once sync.Once
	stopTrickle := func() { once.Do(func() { close(hang) }) }
	t.Cleanup(stopTrickle)
	s := mustStack(t)
	s.withTenantSlots(1)
	fo := fetch.Options{AllowPrivate: true, AllowedPorts: []int{serverPort(t, trickle)}, Timeout: 5 * time.Minute}
	delay := &atomic.Int64{}
	delay.Store(int64(time.Second))
	proc := slowFiles{Processor: &ingest.Processor{Web: fetch.New(fo), TmpDir: t.TempDir()}, delay: delay}
	r, err := jobs.NewRunner(s.db.SQL, s.db.Pool, jobs.Deps{
		Store: s.store, Ingest: s.deps.Jobs.(*postgres.JobStore), Process: proc,
		Log: logging.New(s.logs, logging.Options{Format: "json", Level: "debug"}),
	}, fairnessOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}

	_, keyA := s.tenantWithKey("a")
	_, keyB := s.tenantWithKey("b")
	nodeA, nodeB := s.mustCreate(keyA, "", "A"), s.mustCreate(keyB, "", "B")
	if r := s.upload(keyA, nodeA, field("source_type", "web"), field("source_url", trickle.URL+"/page")); r.Status != 201 {
		t.Fatalf("trickle: %d %s", r.Status, r.Raw)
	}
	for i := range 20 {
		if r := s.upload(keyA, nodeA, field("source_type", "text"), file(fmt.Sprintf("slow-%02d.md", i), []byte("# A\n\ntext\n"))); r.Status != 201 {
			t.Fatalf("A doc %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	time.Sleep(300 * time.Millisecond) // both slots are busy with A's work
	start := time.Now()
	rb := s.upload(keyB, nodeB, field("source_type", "text"), file("b.md", []byte("# B\n\nhello\n")))
	if rb.Status != 201 {
		t.Fatalf("B: %d %s", rb.Status, rb.Raw)
	}
	id := rb.json(t)["id"].(string)
	eventually(t, 10*time.Second, "tenant B's document to be ready", func() bool {
		return s.call(http.MethodGet, "/api/v1/materials/"+id, keyB, nil).json(t)["state"] == "ready"
	})
	took := time.Since(start)
	pendingA := s.count(`SELECT count(*) FROM material_entries m JOIN tenants t ON t.id = m.tenant_id
		WHERE t.name = 'a' AND m.job_id IS NOT NULL`)
	t.Logf("tenant B ready after %s with %d of tenant A's 21 materials still pending", took.Round(time.Millisecond), pendingA)
	if pendingA < 15 {
		t.Fatalf("only %d of A's materials pending: B was not ahead of A's backlog", pendingA)
	}
	// At most one of A's jobs holds a queue record at a time.
	if n := s.count(`SELECT count(*) FROM jobs j JOIN tenants t ON t.id = j.tenant_id
		WHERE t.name = 'a' AND j.status IN ('queued', 'active') AND j.queue_job_id IS NOT NULL`); n != 1 {
		t.Fatalf("tenant A holds %d queue records, want 1", n)
	}
	// A's own backlog is released one by one as its jobs finish (in the
	// finishing transaction, not by the reaper, which is not running).
	delay.Store(0)
	stopTrickle()
	eventually(t, 30*time.Second, "all of tenant A's materials to settle", func() bool {
		return s.count(`SELECT count(*) FROM material_entries m JOIN tenants t ON t.id = m.tenant_id
			WHERE t.name = 'a' AND m.job_id IS NOT NULL`) == 0
	})
	if n := s.count(`SELECT count(*) FROM jobs j JOIN tenants t ON t.id = j.tenant_id
		WHERE t.name = 'a' AND j.status = 'complete'`); n != 20 {
		t.Fatalf("%d of A's 20 documents complete", n)
	}
}

// fairnessOptions are the configuration's worker options with two ingest
// slots and a short backoff and soft stop.
func fairnessOptions(tmp string) jobs.Options {
	o := jobsconf.Defaults(tmp)
	o.IngestMax, o.RetryBaseDelay, o.ShutdownTimeout = 2, 200*time.Millisecond, 2*time.Second
	return o
}

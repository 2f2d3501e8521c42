package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/logging"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// startEmbedWorkers runs the real River workers with embeddings on: the
// embed queue and worker, the router over fake, audit rows in PostgreSQL.
// It returns the job store (for backfill passes).
func (s *stack) startEmbedWorkers(fake *llmtest.EmbedServer, batch int) *postgres.JobStore {
	s.t.Helper()
	js := postgres.NewJobStore(s.db, s.enq).WithEmbeddings(embedModel)
	router := llmtest.Router(s.t, fake.BaseURL(), "sk-test", postgres.NewCallStore(s.db))
	tmp := s.t.TempDir()
	o := jobsconf.Defaults(tmp)
	o.RetryBaseDelay, o.ShutdownTimeout = 200*time.Millisecond, 5*time.Second
	r, err := jobs.NewRunner(s.db.SQL, s.db.Pool, jobs.Deps{
		Store: s.store, Ingest: js, Reaper: js, Process: &ingest.Processor{TmpDir: tmp},
		Log: logging.New(s.logs, logging.Options{Format: "json", Level: "debug"}),
		Embed: &jobs.EmbedDeps{Store: js, Backfill: js, LLM: router, Model: embedModel, BatchSize: batch,
			MaxJobs: 1, Timeout: time.Minute, BackfillInterval: time.Hour},
	}, o)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = r.Stop(context.Background()) })
	return js
}

// lesson is a text material of n paragraphs long enough to be one chunk each.
func lesson(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "# Topic %d\n\n%s\n\n", i, strings.Repeat(fmt.Sprintf("paragraph%d words about subject%d. ", i, i), 90))
	}
	return []byte(b.String())
}

// Ensure a successful ingest schedules an embed job in its transaction,
// which embeds every chunk in batches of EMBEDDING_BATCH_SIZE through the
// router, each batch audited with the tenant and job; a failing batch is
// retried; the vectors are the model's and searchable.
func TestEmbedJobAfterIngest(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	fake.Before = func(n int, _ []string) int {
		if n == 2 {
			return http.StatusInternalServerError // the second batch fails once
		}
		return 0
	}
	s := mustStack(t).withEmbeddings(fake)
	s.startEmbedWorkers(fake, 2)
	tenant, key := s.tenantWithKey("embed")
	root := s.mustCreate(key, "", "Course")
	up := s.upload(key, root, field("source_type", "text"), file("lesson.md", lesson(5)))
	if up.Status != http.StatusAccepted && up.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", up.Status, up.Raw)
	}
	material := up.json(t)["id"].(string)
	eventually(t, 30*time.Second, "every chunk embedded", func() bool {
		return s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1`, material) > 0 &&
			s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1
				AND (embedding IS NULL OR embedding_model <> $2)`, material, embedModel) == 0
	})
	chunks := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1`, material)
	if chunks < 3 {
		t.Fatalf("only %d chunks; the batching is not exercised", chunks)
	}
	var embedJob uuid.UUID
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT id FROM jobs WHERE job_type = 'embed' AND materialentry_id = $1`,
		material).Scan(&embedJob); err != nil {
		t.Fatalf("embed job: %v", err)
	}
	eventually(t, 10*time.Second, "embed job complete", func() bool {
		return s.count(`SELECT count(*) FROM jobs WHERE id = $1 AND status = 'complete'`, embedJob) == 1
	})
	reqs := fake.Requests()
	batches := (chunks + 1) / 2
	if len(reqs) != batches+1 {
		t.Errorf("%d requests for %d chunks in batches of 2, want %d (one retried)", len(reqs), chunks, batches+1)
	}
	for _, r := range reqs {
		if len(r) > 2 {
			t.Errorf("a batch of %d texts", len(r))
		}
	}
	ok := s.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed' AND tenant_id = $1 AND job_id = $2
		AND success AND unit_type = 'tokens' AND model_id = 'embed-small'`, tenant, embedJob)
	failed := s.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed' AND job_id = $1 AND NOT success`, embedJob)
	if ok != batches || failed != 1 {
		t.Errorf("audit: %d successful batches (want %d), %d failed (want 1)", ok, batches, failed)
	}
	// The stored vector is the model's vector of the chunk text.
	var text, vec string
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT text, embedding::text FROM material_chunks
		WHERE materialentry_id = $1 ORDER BY chunk_index LIMIT 1`, material).Scan(&text, &vec); err != nil {
		t.Fatal(err)
	}
	if vec != postgres.VectorLiteral(llmtest.Topic(text)) {
		t.Error("stored vector differs from the model's vector of the chunk text")
	}
	if r := s.search(key, root, "paragraph3 subject3", "mode=vector", "limit=1"); len(r.texts) != 1 || !strings.Contains(r.texts[0], "paragraph3") {
		t.Errorf("vector search over the embedded chunks: %q", r.texts)
	}
}

// Ensure a chunk whose text changes while its batch is being embedded
// keeps no stale vector, and that embed_backfill later embeds its new
// text.
func TestEmbedKeepsNoStaleVector(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	s := mustStack(t)
	var material atomic.Value
	fake.Before = func(n int, _ []string) int {
		if n == 1 { // a re-ingest rewrites chunk 0 while its batch is embedded
			s.exec(`UPDATE material_chunks SET text = 'rewritten text', content_hash = md5('rewritten text')
				WHERE materialentry_id = $1 AND chunk_index = 0`, material.Load())
		}
		return 0
	}
	tenant, key := s.tenantWithKey("stale")
	root := s.mustCreate(key, "", "Course")
	// The material is stored before the workers start, so the hook knows it.
	m := s.seedMaterial(tenant, root, "a.md", seedChunk{text: "original text"}, seedChunk{text: "second chunk"})
	material.Store(m)
	js := s.startEmbedWorkers(fake, 64)
	if n, err := js.BackfillEmbeds(context.Background(), embedModel, 10); err != nil || n != 1 {
		t.Fatalf("backfill: %d %v", n, err)
	}
	eventually(t, 30*time.Second, "embed job done", func() bool {
		return s.count(`SELECT count(*) FROM jobs WHERE job_type = 'embed' AND materialentry_id = $1 AND status = 'complete'`, m) == 1
	})
	if n := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1 AND chunk_index = 0 AND embedding IS NOT NULL`, m); n != 0 {
		t.Fatal("the rewritten chunk received the vector of its old text")
	}
	if n := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1 AND chunk_index = 1 AND embedding IS NOT NULL`, m); n != 1 {
		t.Fatal("the unchanged chunk was not embedded")
	}
	// A material with an embed job in flight is not backfilled twice; once
	// it is done, the backfill picks the rewritten chunk up.
	if n, err := js.BackfillEmbeds(context.Background(), embedModel, 10); err != nil || n != 1 {
		t.Fatalf("second backfill: %d %v", n, err)
	}
	eventually(t, 30*time.Second, "rewritten chunk embedded", func() bool {
		return s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1 AND embedding IS NULL`, m) == 0
	})
	var vec string
	_ = s.db.Pool.QueryRow(context.Background(), `SELECT embedding::text FROM material_chunks WHERE materialentry_id = $1 AND chunk_index = 0`, m).Scan(&vec)
	if vec != postgres.VectorLiteral(llmtest.Topic("rewritten text")) {
		t.Error("the rewritten chunk's vector is not that of its new text")
	}
	if n, err := js.BackfillEmbeds(context.Background(), embedModel, 10); err != nil || n != 0 {
		t.Fatalf("backfill with nothing left: %d %v", n, err)
	}
	// A model change makes every chunk unembedded again.
	if n, err := js.BackfillEmbeds(context.Background(), "another-model", 10); err != nil || n != 1 {
		t.Fatalf("backfill for a new model: %d %v", n, err)
	}
}

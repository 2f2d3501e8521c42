package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/ingest"
)

// Ensure a stored object replaced after upload is detected: the bytes
// ingested differ from the uploaded ones, so the material is
// integrity_broken; retrying makes the current object the reference.
func TestIngestDetectsReplacedObject(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	id := s.upload(key, node, field("source_type", "text"), file("a.md", []byte("# Original\n\nFirst text."))).json(t)["id"].(string)
	m := s.call(http.MethodGet, "/api/v1/materials/"+id, key, nil).json(t)
	// A second PUT to the same key (e.g. through a still-valid presigned URL).
	if _, err := s.store.Upload(context.Background(), m["storage_key"].(string), "text/markdown",
		bytes.NewReader([]byte("# Replaced\n\nOther text."))); err != nil {
		t.Fatal(err)
	}
	s.startWorkersWith(&ingest.Processor{TmpDir: t.TempDir()})
	if m := s.settled(key, id); m["state"] != "integrity_broken" {
		t.Fatalf("after ingest of a replaced object: %v", m)
	}
	r := s.call(http.MethodPost, "/api/v1/materials/"+id+"/retry", key, nil)
	if r.Status != 200 || r.json(t)["state"] != "pending" {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	if m := s.settled(key, id); m["state"] != "ready" {
		t.Fatalf("after retry: %v", m)
	}
	if rows := strings.Join(s.chunkRows(id), "\n"); !strings.Contains(rows, "Replaced") || strings.Contains(rows, "Original") {
		t.Fatalf("chunks are not of the current object:\n%s", rows)
	}
}

// Ensure re-ingesting keeps the embedding of every chunk whose text did not
// change, and only those.
func TestReingestKeepsEmbeddingsOfUnchangedChunks(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	doc := "# One\n\n" + strings.Repeat("Alpha beta gamma delta. ", 120) + "\n\n# Two\n\n" + strings.Repeat("Epsilon zeta eta theta. ", 120)
	id := s.upload(key, node, field("source_type", "text"), file("a.md", []byte(doc))).json(t)["id"].(string)
	s.startWorkersWith(&ingest.Processor{TmpDir: t.TempDir()})
	if m := s.settled(key, id); m["state"] != "ready" {
		t.Fatalf("first ingest: %v", m)
	}
	n := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1`, id)
	if n < 2 {
		t.Fatalf("want several chunks, got %d", n)
	}
	// Embed every chunk; pretend chunk 0 was embedded from other text.
	s.exec(`UPDATE material_chunks SET embedding = array_fill(0.5, ARRAY[1536])::vector, embedding_model = 'm',
		embedded_at = now() WHERE materialentry_id = $1`, id)
	s.exec(`UPDATE material_chunks SET content_hash = 'stale' WHERE materialentry_id = $1 AND chunk_index = 0`, id)
	s.exec(`UPDATE material_entries SET error_message = 'again' WHERE id = $1`, id)
	if r := s.call(http.MethodPost, "/api/v1/materials/"+id+"/retry", key, nil); r.Status != 200 {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	if m := s.settled(key, id); m["state"] != "ready" {
		t.Fatalf("re-ingest: %v", m)
	}
	if got := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1`, id); got != n {
		t.Fatalf("chunks %d, want %d", got, n)
	}
	if got := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1 AND embedding IS NULL`, id); got != 1 {
		t.Fatalf("%d chunks lost their embedding, want exactly the changed one", got)
	}
	if got := s.count(`SELECT count(*) FROM material_chunks WHERE materialentry_id = $1 AND chunk_index = 0 AND embedding IS NULL`, id); got != 1 {
		t.Fatal("the changed chunk kept a stale embedding")
	}
}

package api_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// Ensure the generation context ranking embeds title + description +
// child titles once (audited for the tenant) and orders the
// subtree's embedded chunks by similarity to it; off or failing
// embeddings report ok=false so the caller falls back.
func TestRankContextChunks(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	s := mustStack(t)
	tenant, key := s.tenantWithKey("rank")
	root := s.mustCreate(key, "", "Thermodynamics")
	child := s.mustCreate(key, root, "Entropy")
	v := llmtest.Topic
	texts := []string{"entropy of an ideal gas", "heat engines and thermodynamics efficiency", "unrelated cooking recipe"}
	s.seedMaterial(tenant, root, "a.md", seedChunk{text: texts[2], vec: v(texts[2])}, seedChunk{text: texts[1], vec: v(texts[1])})
	s.seedMaterial(tenant, child, "b.md", seedChunk{text: texts[0], vec: v(texts[0])}, seedChunk{text: "no vector yet"})
	router := llmtest.Router(t, fake.BaseURL(), "sk-test", postgres.NewCallStore(s.db))
	store := postgres.NewSearchStore(s.db, 100)
	call := course.LLMCall{TenantID: &tenant}
	policy := course.EmbeddingPolicy{Model: embedModel}
	ids, ok, err := course.RankContextChunks(context.Background(), router, policy, store, call, uuid.MustParse(root),
		"Thermodynamics", "heat engines efficiency", []string{"Entropy"})
	if err != nil || !ok || len(ids) != 3 {
		t.Fatalf("rank: %v %v %d", ok, err, len(ids))
	}
	got := make([]string, len(ids))
	for i, id := range ids {
		_ = s.db.Pool.QueryRow(context.Background(), `SELECT text FROM material_chunks WHERE id = $1`, id).Scan(&got[i])
	}
	if got[0] != texts[1] || got[2] != texts[2] {
		t.Errorf("ranking %q", got)
	}
	if q := fake.Requests()[0][0]; q != "Thermodynamics\nheat engines efficiency\nEntropy" {
		t.Errorf("embedded %q", q)
	}
	if n := s.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed' AND tenant_id = $1`, tenant); n != 1 {
		t.Errorf("%d audit rows", n)
	}
	if _, ok, _ := course.RankContextChunks(context.Background(), router, course.EmbeddingPolicy{}, store, call, uuid.MustParse(root), "x", "", nil); ok {
		t.Error("ranked with embeddings off")
	}
	fake.Before = func(int, []string) int { return 400 }
	if _, ok, err := course.RankContextChunks(context.Background(), router, policy, store, call, uuid.MustParse(root), "x", "", nil); ok || err != nil {
		t.Errorf("failed embedding: ok %v err %v", ok, err)
	}
}

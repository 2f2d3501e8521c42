package api_test

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/postgres"
)

const embedModel = "text-embedding-3-small"

// seedChunk is one chunk written straight into material_chunks; vec nil
// leaves it unembedded.
type seedChunk struct {
	text string
	vec  []float32
	meta string
}

// seedMaterial inserts a ready text material of node with chunks.
func (s *stack) seedMaterial(tenant uuid.UUID, node, filename string, chunks ...seedChunk) uuid.UUID {
	s.t.Helper()
	id := uuid.Must(uuid.NewV7())
	s.exec(`INSERT INTO material_entries (id, tenant_id, materialnode_id, source_type, source_url, filename,
		processed_content, processed_hash, processed_at) VALUES ($1, $2, $3, 'text', 'x', $4, 'x', 'h', now())`,
		id, tenant, node, filename)
	for i, c := range chunks {
		meta := c.meta
		if meta == "" {
			meta = "{}"
		}
		var vec, model any
		if c.vec != nil {
			vec, model = postgres.VectorLiteral(c.vec), embedModel
		}
		s.exec(`INSERT INTO material_chunks (id, tenant_id, materialnode_id, materialentry_id, chunk_index, chunk_type,
			text, token_count, metadata, content_hash, embedding, embedding_model, embedded_at)
			VALUES ($1, $2, $3, $4, $5, 'paragraph', $6, 10, $7::jsonb, md5($6), $8::vector, $9, now())`,
			uuid.Must(uuid.NewV7()), tenant, node, id, i, c.text, meta, vec, model)
	}
	return id
}

// withEmbeddings rebuilds the server with embeddings on, query vectors
// from the fake embeddings server through the real router (audited in
// PostgreSQL).
func (s *stack) withEmbeddings(fake *llmtest.EmbedServer) *stack {
	s.t.Helper()
	router := llmtest.Router(s.t, fake.BaseURL(), "sk-test", postgres.NewCallStore(s.db))
	s.deps.Search = &course.Searcher{Chunks: postgres.NewSearchStore(s.db, 100), LLM: router,
		Policy: course.EmbeddingPolicy{Model: embedModel}, EmbedTimeout: 5 * time.Second}
	s.build()
	return s
}

type searchReply struct {
	status int
	mode   string
	texts  []string
	items  []map[string]any
}

func (s *stack) search(key, node, q string, extra ...string) searchReply {
	s.t.Helper()
	path := "/api/v1/nodes/" + node + "/search?q=" + url.QueryEscape(q)
	for _, e := range extra {
		path += "&" + e
	}
	r := s.call(http.MethodGet, path, key, nil)
	out := searchReply{status: r.Status}
	if r.Status != http.StatusOK {
		return out
	}
	m := r.json(s.t)
	out.mode, _ = m["mode"].(string)
	items, _ := m["items"].([]any)
	if int(m["total"].(float64)) != len(items) || m["query"] != strings.TrimSpace(q) {
		s.t.Fatalf("total/query: %s", r.Raw)
	}
	for _, it := range items {
		im := it.(map[string]any)
		out.items = append(out.items, im)
		out.texts = append(out.texts, im["text"].(string))
	}
	return out
}

func unit(axis int) []float32 {
	v := make([]float32, llmtest.Dimensions)
	v[axis] = 1
	return v
}

// towards is a unit vector at cosine a to axis 0, off towards axis.
func towards(a float64, axis int) []float32 {
	v := make([]float32, llmtest.Dimensions)
	v[0], v[axis] = float32(a), float32(math.Sqrt(1-a*a))
	return v
}

// Ensure vector mode ranks by cosine similarity to the query's embedding,
// reports score = 1 - distance and the hit's context, and stays inside
// the subtree.
func TestSearchVectorRelevanceAndSubtree(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	s := mustStack(t).withEmbeddings(fake)
	tenant, key := s.tenantWithKey("search")
	root := s.mustCreate(key, "", "Biology")
	plants := s.mustCreate(key, root, "Plants")
	animals := s.mustCreate(key, root, "Animals")
	v := llmtest.Topic
	s.seedMaterial(tenant, plants, "plants.md",
		seedChunk{text: "Photosynthesis turns light into sugar in the chloroplast", vec: v("Photosynthesis turns light into sugar in the chloroplast"), meta: `{"slide_number": 3}`},
		seedChunk{text: "Roots take up water and minerals", vec: v("Roots take up water and minerals")},
		seedChunk{text: "unembedded chloroplast light sugar"})
	s.seedMaterial(tenant, animals, "animals.md",
		seedChunk{text: "Mammals regulate body temperature", vec: v("Mammals regulate body temperature")},
		seedChunk{text: "Birds take up water at rivers", vec: v("Birds take up water at rivers")})

	r := s.search(key, root, "light sugar chloroplast", "mode=vector")
	if r.status != 200 || r.mode != "vector" || len(r.texts) != 4 {
		t.Fatalf("vector search: %+v", r)
	}
	if r.texts[0] != "Photosynthesis turns light into sugar in the chloroplast" {
		t.Fatalf("nearest: %q", r.texts)
	}
	top := r.items[0]
	want := cosine(v("light sugar chloroplast"), v(r.texts[0]))
	if got := top["score"].(float64); math.Abs(got-want) > 1e-4 {
		t.Errorf("score %v, want 1 - cosine distance %v", got, want)
	}
	if top["node_title"] != "Plants" || top["filename"] != "plants.md" || top["source_type"] != "text" ||
		top["chunk_type"] != "paragraph" || top["metadata"].(map[string]any)["slide_number"] != 3.0 || top["materialnode_id"] != plants {
		t.Errorf("hit context: %v", top)
	}
	// Unembedded chunks are invisible to vector mode, but text finds them.
	for _, txt := range r.texts {
		if strings.HasPrefix(txt, "unembedded") {
			t.Error("an unembedded chunk was ranked by vector")
		}
	}
	// The subtree of Animals: only its chunks, nearest first.
	r = s.search(key, animals, "take up water", "mode=vector")
	if len(r.texts) != 2 || r.texts[0] != "Birds take up water at rivers" {
		t.Fatalf("subtree: %q", r.texts)
	}
	// Limit.
	if r = s.search(key, root, "water", "mode=vector", "limit=1"); len(r.texts) != 1 {
		t.Fatalf("limit 1: %q", r.texts)
	}
	// Each query embedding is one audited call of the tenant.
	if n := s.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed' AND tenant_id = $1 AND success`, tenant); n != 3 {
		t.Errorf("%d audited query embeddings, want 3", n)
	}
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

// Ensure text mode (the default when embeddings are off) understands
// websearch syntax: quoted phrases and excluded terms.
func TestSearchTextWebsearchSyntax(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("text")
	root := s.mustCreate(key, "", "ML")
	s.seedMaterial(tenant, root, "ml.md",
		seedChunk{text: "A neural network learns weights by gradient descent"},
		seedChunk{text: "The network of neural pathways in the brain"},
		seedChunk{text: "A computer network routes packets"})
	r := s.search(key, root, `"neural network"`)
	if r.status != 200 || r.mode != "text" || len(r.texts) != 1 || !strings.HasPrefix(r.texts[0], "A neural network") {
		t.Fatalf("phrase: %+v", r)
	}
	r = s.search(key, root, "network -neural")
	if len(r.texts) != 1 || r.texts[0] != "A computer network routes packets" {
		t.Fatalf("exclusion: %q", r.texts)
	}
	r = s.search(key, root, "network")
	if len(r.texts) != 3 {
		t.Fatalf("plain term: %q", r.texts)
	}
	// Forcing vector or hybrid without embeddings answers in text mode, and says so.
	if r = s.search(key, root, "packets", "mode=hybrid"); r.mode != "text" || len(r.texts) != 1 {
		t.Fatalf("forced hybrid without embeddings: %+v", r)
	}
	if r = s.search(key, root, "nothing-matches-this"); r.status != 200 || len(r.texts) != 0 {
		t.Fatalf("no match: %+v", r)
	}
}

// Ensure hybrid fuses both rankings: with limit 2, vector alone misses the
// exact-term chunk and text alone misses the paraphrase; hybrid has both,
// the chunk both rankings know first.
func TestSearchHybridFusion(t *testing.T) {
	t.Parallel()
	const q = "E4012 overheating"
	fake := llmtest.NewEmbedServer(t)
	vectors := map[string][]float32{q: unit(0)}
	fake.Vector = func(text string) []float32 {
		if v, ok := vectors[text]; ok {
			return v
		}
		return llmtest.Topic(text)
	}
	s := mustStack(t).withEmbeddings(fake)
	tenant, key := s.tenantWithKey("hybrid")
	root := s.mustCreate(key, "", "Ops")
	const exact = "Error E4012 overheating of the pump controller"
	const paraphrase = "When the device runs too hot it shuts down"
	s.seedMaterial(tenant, root, "ops.md",
		seedChunk{text: exact, vec: unit(50)}, // far from the query vector
		seedChunk{text: paraphrase, vec: unit(0)},
		seedChunk{text: "Fans cool the cabinet", vec: towards(0.9, 1)},
		seedChunk{text: "Temperature sensors report every second", vec: towards(0.8, 2)},
		seedChunk{text: "Thermal paste ages", vec: towards(0.7, 3)})

	vec := s.search(key, root, q, "mode=vector", "limit=2")
	txt := s.search(key, root, q, "mode=text", "limit=2")
	hyb := s.search(key, root, q, "limit=2") // hybrid is the default with embeddings
	if vec.mode != "vector" || contains(strings.Join(vec.texts, "|"), exact) || vec.texts[0] != paraphrase {
		t.Fatalf("vector alone: %q", vec.texts)
	}
	if txt.mode != "text" || len(txt.texts) != 1 || txt.texts[0] != exact {
		t.Fatalf("text alone: %q", txt.texts)
	}
	if hyb.mode != "hybrid" || len(hyb.texts) != 2 || hyb.texts[0] != exact || hyb.texts[1] != paraphrase {
		t.Fatalf("hybrid: %q", hyb.texts)
	}
	// RRF: the exact chunk is first in text and 5th in vector.
	if got, want := hyb.items[0]["score"].(float64), 1.0/61+1.0/65; math.Abs(got-want) > 1e-9 {
		t.Errorf("fused score %v, want %v", got, want)
	}
}

// Ensure a query that cannot be embedded (the provider fails) is answered
// in text mode, and the failed attempts are audited under the tenant.
func TestSearchFallsBackToText(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	fake.Before = func(int, []string) int { return http.StatusServiceUnavailable }
	s := mustStack(t).withEmbeddings(fake)
	tenant, key := s.tenantWithKey("fallback")
	root := s.mustCreate(key, "", "Course")
	s.seedMaterial(tenant, root, "a.md", seedChunk{text: "gradient descent converges", vec: unit(1)})
	r := s.search(key, root, "gradient descent")
	if r.status != 200 || r.mode != "text" || len(r.texts) != 1 {
		t.Fatalf("fallback: %+v", r)
	}
	if n := s.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed' AND tenant_id = $1 AND NOT success`, tenant); n < 1 {
		t.Error("the failed query embedding was not audited")
	}
}

// Ensure only ready materials are searched: a material being re-ingested
// or failed keeps its old chunks out of the results.
func TestSearchOnlyReadyMaterials(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("ready")
	root := s.mustCreate(key, "", "Course")
	ready := s.seedMaterial(tenant, root, "ready.md", seedChunk{text: "kinetic energy ready"})
	failed := s.seedMaterial(tenant, root, "failed.md", seedChunk{text: "kinetic energy failed"})
	raw := s.seedMaterial(tenant, root, "raw.md", seedChunk{text: "kinetic energy broken"})
	s.exec(`UPDATE material_entries SET error_message = 'Could not read the file' WHERE id = $1`, failed)
	s.exec(`UPDATE material_entries SET raw_hash = 'new', processed_raw_hash = 'old' WHERE id = $1`, raw)
	r := s.search(key, root, "kinetic energy")
	if len(r.texts) != 1 || r.texts[0] != "kinetic energy ready" {
		t.Fatalf("only the ready material: %q (ready %s)", r.texts, ready)
	}
}

// Ensure the query bounds answer 422 and a check-only key may search.
func TestSearchValidation(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("bounds")
	root := s.mustCreate(key, "", "Course")
	base := "/api/v1/nodes/" + root + "/search"
	for name, q := range map[string]string{
		"missing q":   "",
		"empty q":     "?q=",
		"blank q":     "?q=%20%20%20",
		"long q":      "?q=" + strings.Repeat("a", 501),
		"limit 0":     "?q=a&limit=0",
		"limit 51":    "?q=a&limit=51",
		"bad mode":    "?q=a&mode=fuzzy",
		"bad node id": "/../x",
	} {
		path := base + q
		if name == "bad node id" {
			path = "/api/v1/nodes/not-a-uuid/search?q=a"
		}
		if r := s.call(http.MethodGet, path, key, nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if r := s.call(http.MethodGet, base+"?q="+strings.Repeat("é", 500), key, nil); r.Status != 200 {
		t.Errorf("500 characters (1000 bytes): %d %s", r.Status, r.Raw)
	}
	check := s.mustKey(tenant, keyOpts{scopes: `["check"]`})
	if r := s.call(http.MethodGet, base+"?q=a", check, nil); r.Status != 200 {
		t.Errorf("check-only key: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodGet, fmt.Sprintf("/api/v1/nodes/%s/search?q=a", uuid.New()), key, nil); r.Status != 404 {
		t.Errorf("unknown node: %d", r.Status)
	}
}

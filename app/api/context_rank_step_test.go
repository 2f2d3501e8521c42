package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// Texts of the ranking case: a node "Thermodynamics" / "heat engines"
// whose budget keeps the first chunk and two more. Two chunks share the
// node's words (full text picks them) but carry vectors of unrelated
// topics; two share no word but lie next to the embedded node query
// (embedding similarity picks them).
const (
	rankFirst    = "Welcome to the course"
	rankTextA    = "Thermodynamics studies heat engines"
	rankNearest  = "Carnot cycle efficiency bound"
	rankNear     = "Entropy of closed systems grows"
	rankTextB    = "Heat engines in thermodynamics history"
	rankNoVector = "An unembedded closing remark"
	rankQuery    = "Thermodynamics\nheat engines" // course.ContextQuery of the node
)

// rankStack seeds the ranking case on a generation stack and returns it
// with the node and the settled step job.
func rankCase(t *testing.T, fake *llmtest.EmbedServer, on bool) (*genStack, string, map[string]any) {
	t.Helper()
	g := newGenStackEmbed(t, jobs.GenerationOptions{Budget: 30}, fake, on)
	root := g.child("", "Thermodynamics")
	if r := g.call(http.MethodPatch, "/api/v1/nodes/"+root, g.key, map[string]any{"description": "heat engines"}); r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Raw)
	}
	v := llmtest.Topic
	// Every seeded chunk is 10 tokens: 60 in all against a budget of 30.
	m := g.seedMaterial(g.tenant, root, "heat.md",
		seedChunk{text: rankFirst, vec: v(rankFirst)},
		seedChunk{text: rankTextA, vec: v("cooking pasta recipe")},
		seedChunk{text: rankNearest, vec: v(rankQuery)},
		seedChunk{text: rankNear, vec: v("thermodynamics heat engines entropy")},
		seedChunk{text: rankTextB, vec: v("gardening tools")},
		seedChunk{text: rankNoVector})
	g.exec(`UPDATE material_entries SET processed_content = '{"title": "Heat"}' WHERE id = $1`, m)
	js := g.settle(g.plan(root, "generate", nil))
	if len(js) != 1 || js[0]["status"] != "complete" {
		t.Fatalf("jobs %v", js)
	}
	return g, root, js[0]
}

// contextTexts are the chunk texts of the context the step sent.
func contextTexts(t *testing.T, g *genStack) []string {
	t.Helper()
	reqs := g.chat.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d structuring requests", len(reqs))
	}
	_, rest, _ := strings.Cut(reqs[0].User, "Course context (JSON; documents with their chunks, in order):\n")
	ctxJSON, _, _ := strings.Cut(rest, "\n\nBuild the CourseStructure")
	var cc struct {
		Documents []struct {
			Chunks []struct {
				Text string `json:"text"`
			} `json:"chunks"`
		} `json:"documents"`
	}
	if err := json.Unmarshal([]byte(ctxJSON), &cc); err != nil || len(cc.Documents) != 1 {
		t.Fatalf("context %v: %.300s", err, ctxJSON)
	}
	var out []string
	for _, c := range cc.Documents[0].Chunks {
		out = append(out, c.Text)
	}
	return out
}

// truncatedRanking is the ranking field of the step's context_truncated line.
func truncatedRanking(t *testing.T, g *genStack) string {
	t.Helper()
	for _, line := range strings.Split(g.logs.String(), "\n") {
		var e struct{ Event, Ranking string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Event == "context_truncated" {
			return e.Ranking
		}
	}
	t.Fatal("no context_truncated line")
	return ""
}

// Ensure a step whose budget fits only two ranked chunks sends the two
// nearest to its embedded title and description, not the two full text
// ranks first, after one embed call audited with the tenant and the job;
// the snapshot keeps the node's fingerprint.
func TestStepContextRankedByEmbedding(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	g, root, job := rankCase(t, fake, true)
	if got, want := contextTexts(t, g), []string{rankFirst, rankNearest, rankNear}; !slices.Equal(got, want) {
		t.Errorf("context %q, want %q", got, want)
	}
	if reqs := fake.Requests(); len(reqs) != 1 || len(reqs[0]) != 1 || reqs[0][0] != rankQuery {
		t.Errorf("embed requests %q", reqs)
	}
	if n := g.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed' AND success
		AND tenant_id = $1 AND job_id = $2`, g.tenant, job["id"]); n != 1 {
		t.Errorf("%d audited embed calls of the step", n)
	}
	if r := truncatedRanking(t, g); r != "embedding" {
		t.Errorf("ranking %q", r)
	}
	var snap, node string
	_ = g.db.Pool.QueryRow(context.Background(), `SELECT s.node_fingerprint, n.node_fingerprint FROM structure_snapshots s
		JOIN material_nodes n ON n.id = s.materialnode_id WHERE n.id = $1`, uuid.MustParse(root)).Scan(&snap, &node)
	if snap == "" || snap != node {
		t.Errorf("snapshot fingerprint %q, node %q", snap, node)
	}
}

// Ensure a failing embed call leaves the step on the full-text ranking
// (the failed attempt audited with the tenant) and the step completes.
func TestStepContextEmbedFailureFallsBack(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	fake.Before = func(int, []string) int { return http.StatusInternalServerError }
	g, _, job := rankCase(t, fake, true)
	if got, want := contextTexts(t, g), []string{rankFirst, rankTextA, rankTextB}; !slices.Equal(got, want) {
		t.Errorf("context %q, want %q", got, want)
	}
	if n := g.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed' AND NOT success
		AND tenant_id = $1 AND job_id = $2`, g.tenant, job["id"]); n == 0 {
		t.Error("the failed embed call is not audited")
	}
	if r := truncatedRanking(t, g); r != "text" {
		t.Errorf("ranking %q", r)
	}
	if !strings.Contains(g.logs.String(), `"event":"context_rank_fallback"`) {
		t.Error("no context_rank_fallback line")
	}
}

// Ensure embeddings off rank by full text without any embed call.
func TestStepContextEmbeddingsOff(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewEmbedServer(t)
	g, _, _ := rankCase(t, fake, false)
	if got, want := contextTexts(t, g), []string{rankFirst, rankTextA, rankTextB}; !slices.Equal(got, want) {
		t.Errorf("context %q, want %q", got, want)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d embed requests with embeddings off", n)
	}
	if n := g.count(`SELECT count(*) FROM external_service_calls WHERE action = 'embed'`); n != 0 {
		t.Errorf("%d embed audit rows", n)
	}
	if r := truncatedRanking(t, g); r != "text" {
		t.Errorf("ranking %q", r)
	}
}

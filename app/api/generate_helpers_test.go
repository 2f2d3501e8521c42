package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/llm"
	"github.com/course-supporter/course-supporter/app/logging"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// genStack is the API with every worker running: ingest of text
// materials, the reaper, and generation steps whose model is a fake
// OpenAI chat-completions server behind the real router (audited in
// PostgreSQL).
type genStack struct {
	*stack
	chat   *llmtest.Chat
	key    string
	tenant uuid.UUID
}

func newGenStack(t testing.TB, o jobs.GenerationOptions) *genStack {
	t.Helper()
	return newGenStackEmbed(t, o, nil, false)
}

// newGenStackEmbed is newGenStack whose router also serves the embed
// action from embed (when not nil), with embeddings on or off for the
// steps' context ranking.
func newGenStackEmbed(t testing.TB, o jobs.GenerationOptions, embed *llmtest.EmbedServer, on bool) *genStack {
	t.Helper()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("gen")
	chat := llmtest.NewChat(t)
	prompts, err := llm.LoadPrompts(llm.EmbeddedPrompts())
	if err != nil {
		t.Fatal(err)
	}
	js := postgres.NewJobStore(s.db, s.enq)
	opts := jobsconf.Defaults(t.TempDir())
	opts.RetryBaseDelay, opts.ShutdownTimeout = 100*time.Millisecond, 5*time.Second
	opts.Generation.Timeout = time.Minute
	if o.Budget > 0 {
		opts.Generation.Budget = o.Budget
	}
	if o.Strategy != "" {
		opts.Generation.Strategy = o.Strategy
	}
	if o.Timeout > 0 {
		opts.Generation.Timeout = o.Timeout
	}
	deps := jobs.Deps{
		Store: s.store, Ingest: js, Reaper: js, Process: &ingest.Processor{TmpDir: t.TempDir()},
		Steps: postgres.NewGenerationStore(s.db, s.enq), LLM: llmtest.StructuringRouter(t, chat.URL+"/v1", postgres.NewCallStore(s.db)),
		Prompts: prompts, Log: logging.New(s.logs, logging.Options{Format: "json", Level: "debug"}),
	}
	if embed != nil {
		deps.LLM = llmtest.StepsRouter(t, chat.URL+"/v1", embed.BaseURL(), postgres.NewCallStore(s.db))
		deps.Ranker = postgres.NewSearchStore(s.db, 100)
		if on {
			deps.Embedding = course.EmbeddingPolicy{Model: embedModel}
		}
	}
	r, err := jobs.NewRunner(s.db.SQL, s.db.Pool, deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	return &genStack{stack: s, chat: chat, key: key, tenant: tenant}
}

// child creates a node (parent "" = a root).
func (g *genStack) child(parent, title string) string { return g.mustCreate(g.key, parent, title) }

// markdown uploads a Markdown file to node and waits until it is ready.
func (g *genStack) markdown(node, name, text string) string {
	g.t.Helper()
	r := g.upload(g.key, node, field("source_type", "text"), file(name, []byte(text)))
	if r.Status != http.StatusCreated {
		g.t.Fatalf("upload %s: %d %s", name, r.Status, r.Raw)
	}
	id := r.json(g.t)["id"].(string)
	if m := g.settled(g.key, id); m["state"] != "ready" {
		g.t.Fatalf("material %s: %v", name, m)
	}
	return id
}

// plan posts generate (or refine) and returns the 202 body.
func (g *genStack) plan(node, what string, body any) map[string]any {
	g.t.Helper()
	r := g.call(http.MethodPost, "/api/v1/nodes/"+node+"/"+what, g.key, body)
	if r.Status != http.StatusAccepted {
		g.t.Fatalf("%s %s: %d %s", what, node, r.Status, r.Raw)
	}
	return r.json(g.t)
}

// planJobs lists the plan's step jobs: generation then reconciliation.
func planJobs(p map[string]any) []map[string]any {
	var out []map[string]any
	for _, k := range []string{"generation_jobs", "reconciliation_jobs"} {
		for _, j := range p[k].([]any) {
			out = append(out, j.(map[string]any))
		}
	}
	return out
}

// settle waits until every job of the plan is final and returns them as
// GET /jobs shows them, in plan order.
func (g *genStack) settle(p map[string]any) []map[string]any {
	g.t.Helper()
	var out []map[string]any
	eventually(g.t, 60*time.Second, "the plan settles", func() bool {
		out = out[:0]
		for _, j := range planJobs(p) {
			cur := g.call(http.MethodGet, "/api/v1/jobs/"+j["id"].(string), g.key, nil).json(g.t)
			switch cur["status"] {
			case "queued", "active":
				return false
			}
			out = append(out, cur)
		}
		return true
	})
	return out
}

// requestFor finds the fake's request for a node and step (by prompt).
func requestFor(reqs []llmtest.ChatRequest, node, step string) (int, llmtest.ChatRequest) {
	for i, r := range reqs {
		if r.Node == node && stepOf(r) == step {
			return i, r
		}
	}
	return -1, llmtest.ChatRequest{}
}

// stepOf tells the step of a request by its system prompt.
func stepOf(r llmtest.ChatRequest) string {
	switch {
	case strings.Contains(r.User, "Return the reconciled CourseStructure"):
		return "reconcile"
	case strings.Contains(r.User, "Return the refined CourseStructure"):
		return "refine"
	}
	return "generate"
}

package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/llm"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// llmSet is the parsed LLM registry and prompt registry. Both are loaded
// by every long-running command, so a bad override file stops start-up
// (docs/design/llm.md).
type llmSet struct {
	registry *llm.Registry
	prompts  *llm.Prompts
}

func loadLLM(cfg *config.Config) (*llmSet, error) {
	data := llm.EmbeddedRegistry()
	if p := cfg.LLM.RegistryPath; p != "" {
		b, err := os.ReadFile(p) //nolint:gosec // G304: the operator's LLM_REGISTRY_PATH
		if err != nil {
			return nil, fmt.Errorf("LLM_REGISTRY_PATH: %w", err)
		}
		data = b
	}
	reg, err := llm.LoadRegistry(data, cfg.LLM.Lookup)
	if err != nil {
		return nil, err
	}
	if cfg.LLM.BuiltinEnabled {
		reg.EnableBuiltin()
	}
	dir := llm.EmbeddedPrompts()
	if cfg.LLM.PromptsDir != "" {
		dir = os.DirFS(cfg.LLM.PromptsDir)
	}
	prompts, err := llm.LoadPrompts(dir)
	if err != nil {
		return nil, err
	}
	return &llmSet{registry: reg, prompts: prompts}, nil
}

// newRouter builds the router of a worker process: audit rows in
// PostgreSQL, metrics on reg.
func newRouter(cfg *config.Config, set *llmSet, db *postgres.DB, reg prometheus.Registerer, log *slog.Logger) (*llm.Router, error) {
	r, err := llm.New(llm.Options{
		Registry: set.registry, Recorder: postgres.NewCallStore(db), Metrics: llm.NewMetrics(reg),
		Log: log.With("logger", "llm"), AttemptsPerModel: cfg.LLM.AttemptsPerModel, RequestTimeout: cfg.LLM.RequestTimeout,
		BuiltinAllowed: cfg.LLM.BuiltinEnabled,
	})
	if err != nil {
		return nil, err
	}
	attrs := []any{"logger", "llm", "builtin", cfg.LLM.BuiltinEnabled}
	for _, a := range []string{course.ActionCourseStructuring, course.ActionPresentationAnalysis, course.ActionTranscribe, course.ActionEmbed} {
		attrs = append(attrs, a, r.Configured(a))
	}
	log.Info("llm_router_ready", attrs...)
	return r, nil
}

// slidePrompt renders the slide_description prompt for PDF vision.
func slidePrompt(p *llm.Prompts) func(int) (ingest.SlidePrompt, error) {
	return func(n int) (ingest.SlidePrompt, error) {
		r, err := p.Render(llm.PromptSlide, llm.PromptData{SlideNumber: n})
		return ingest.SlidePrompt{System: r.System, User: r.User, Ref: r.Version}, err
	}
}

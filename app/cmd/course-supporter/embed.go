package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/llm"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// aiSet is the process's one LLM router and the embedding policy resolved
// from it at start (docs/design/search.md). serve and worker share it when
// the workers run in-process, so metrics are registered once.
type aiSet struct {
	router *llm.Router
	policy course.EmbeddingPolicy
}

// ai builds the router and resolves EMBEDDINGS_ENABLED once per process.
func (d *deps) ai(cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (*aiSet, error) {
	if d.aiSet != nil {
		return d.aiSet, nil
	}
	r, err := newRouter(cfg, d.llm, d.db, reg, log)
	if err != nil {
		return nil, err
	}
	p, err := embeddingPolicy(cfg.Embed, r)
	if err != nil {
		return nil, err
	}
	if p.Enabled() {
		reg.MustRegister(d.db.EmbeddingCollector(p.Model))
	}
	log.Info("embeddings", "logger", "llm", "enabled", p.Enabled(), "model", p.Model, "setting", cfg.Embed.Enabled)
	d.aiSet = &aiSet{router: r, policy: p}
	return d.aiSet, nil
}

// embeddingPolicy applies EMBEDDINGS_ENABLED to the registry: auto is on
// when the embed action has a usable model; true without one, or a usable
// model of another width than the column, stops start-up.
func embeddingPolicy(c config.Embeddings, r *llm.Router) (course.EmbeddingPolicy, error) {
	if c.Enabled == "false" {
		return course.EmbeddingPolicy{}, nil
	}
	model, ok, err := r.EmbeddingModel()
	if err != nil {
		return course.EmbeddingPolicy{}, fmt.Errorf("EMBEDDINGS_ENABLED: %w", err)
	}
	if !ok {
		if c.Enabled == "true" {
			return course.EmbeddingPolicy{}, errors.New("EMBEDDINGS_ENABLED=true but the embed action has no usable model (set the provider's API key)")
		}
		return course.EmbeddingPolicy{}, nil
	}
	return course.EmbeddingPolicy{Model: model, BatchSize: c.BatchSize}, nil
}

// searcher is the search service of the API.
func searcher(cfg *config.Config, d *deps, ai *aiSet, log *slog.Logger) *course.Searcher {
	s := &course.Searcher{Chunks: postgres.NewSearchStore(d.db, cfg.Embed.EFSearch), Policy: ai.policy,
		EmbedTimeout: cfg.Embed.QueryTimeout,
		OnFallback: func(ctx context.Context, err error) {
			log.WarnContext(ctx, "search_text_fallback", "logger", "search", "error", err)
		}}
	if ai.policy.Enabled() {
		s.LLM = ai.router
	}
	return s
}

// embedDeps are the embed workers' dependencies; nil when embeddings are off.
func embedDeps(cfg *config.Config, store *postgres.JobStore, ai *aiSet) *jobs.EmbedDeps {
	if !ai.policy.Enabled() {
		return nil
	}
	store.WithEmbeddings(ai.policy.Model)
	return &jobs.EmbedDeps{Store: store, Backfill: store, LLM: ai.router, Model: ai.policy.Model,
		BatchSize: cfg.Embed.BatchSize, MaxJobs: 1, Timeout: cfg.Worker.JobTimeout,
		BackfillInterval: cfg.Embed.BackfillInterval}
}

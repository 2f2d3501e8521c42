package jobs

import (
	"context"
	"log/slog"

	"github.com/course-supporter/course-supporter/app/course"
)

// rankContext re-ranks a step's chunks by embedding similarity
// (docs/design/search.md, "Generation context") when it matters and can:
// the documents exceed the budget and embeddings are on. The node's query
// text is embedded through the router (one call audited with the tenant
// and the job) and PostgreSQL orders the chunks by cosine distance.
// Embeddings off, or an embedding or ranking failure, leave the full-text
// rank LoadStep read; in.Ranking says which one chose the context. Only a
// cancelled attempt is an error.
func (w *StepWorker) rankContext(ctx context.Context, log *slog.Logger, task *course.StepTask, in *course.StepInput) error {
	if !w.Embedding.Enabled() || w.Ranker == nil || !course.NeedsRanking(in.Documents, w.Opts.Budget) {
		return nil
	}
	jobID := task.Job.ID
	call := course.LLMCall{TenantID: &task.TenantID, JobID: &jobID}
	ids, ok, err := course.RankContextChunks(ctx, w.LLM, w.Embedding, w.Ranker, call, task.NodeID,
		in.Target.Title, in.Target.Description, course.ContextChildTitles(in.MaterialTree))
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil || !ok {
		log.Warn("context_rank_fallback", "ranking", course.RankingText, "error", errText(err))
		return nil
	}
	course.ApplyEmbeddingRank(in.Documents, ids)
	in.Ranking = course.RankingEmbedding
	return nil
}

func errText(err error) string {
	if err == nil {
		return "embedding unavailable"
	}
	return err.Error()
}

package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/llm"
)

// KindStep is the River kind of generation steps (generate, reconcile,
// refine); the business job says which.
const KindStep = "generation_step"

// QueueGeneration is the queue of generation steps (WORKER_MAX_JOBS).
const QueueGeneration = "generation"

// StepArgs points at the business job of a step.
type StepArgs struct {
	JobID uuid.UUID `json:"job_id"`
}

// Kind implements river.JobArgs.
func (StepArgs) Kind() string { return KindStep }

// InsertOpts puts steps on the generation queue.
func (StepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueGeneration, Priority: PriorityNormal}
}

// GenerationOptions are the model settings of the steps.
type GenerationOptions struct {
	Strategy  string        // LLM_STRUCTURING_STRATEGY
	MaxTokens int           // LLM_MAX_OUTPUT_TOKENS
	Budget    int           // LLM_CONTEXT_TOKEN_BUDGET
	Timeout   time.Duration // WORKER_STEP_TIMEOUT
}

// StepWorker runs one generation step (docs/design/generation.md,
// "Steps"): start guard, fingerprint and idempotency, context within the
// token budget, the step's prompt, the router's structured output, and
// one transaction storing the snapshot and completing the job.
type StepWorker struct {
	river.WorkerDefaults[StepArgs]
	Store   course.StepLifecycle
	LLM     course.LLM
	Prompts *llm.Prompts
	Opts    GenerationOptions
	// Ranker and Embedding rank a truncated context by embedding
	// similarity; a zero Embedding (embeddings off) keeps the text rank.
	Ranker    course.ChunkRanker
	Embedding course.EmbeddingPolicy
	Backoff   backoff
	Metrics   *Metrics
	Log       *slog.Logger
}

// Timeout is WORKER_STEP_TIMEOUT.
func (w *StepWorker) Timeout(*river.Job[StepArgs]) time.Duration { return w.Opts.Timeout }

// Work runs one attempt.
func (w *StepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	id := job.Args.JobID
	log := w.Log.With("logger", "jobs.generate", "job_id", id, "attempt", job.Attempt)
	verdict, task, err := w.Store.StartStep(ctx, id)
	if err != nil {
		return fmt.Errorf("start step: %w", err)
	}
	switch verdict {
	case course.StartStale:
		return nil
	case course.StartWait:
		log.Info("job_snoozed", "reason", "dependencies")
		return river.JobSnooze(waitForDependencies)
	case course.StartFailed:
		w.Metrics.finished(KindStep, course.JobFailed)
		log.Warn("job_failed", "reason", "dependency failed")
		return nil
	case course.StartGone:
		w.Metrics.finished(KindStep, course.JobCancelled)
		log.Info("job_cancelled", "reason", "node deleted")
		return nil
	}
	log = log.With("tenant_id", task.TenantID, "node_id", task.NodeID, "step", task.Step, "mode", task.Mode)
	log.Info("job_started")
	started := time.Now()
	res, err := w.run(ctx, log, task)
	if err == nil {
		err = w.Store.CompleteStep(ctx, id, res, completeInTx(job))
	}
	w.Metrics.duration(KindStep, time.Since(started))
	if err != nil {
		return w.failed(ctx, log, job, err)
	}
	w.Metrics.finished(KindStep, course.JobComplete)
	log.Info("job_completed", "reused", res.Reused != nil, "duration_ms", time.Since(started).Milliseconds())
	return nil
}

// run computes the step's result: the snapshot to reuse, or a new
// structure from the model.
func (w *StepWorker) run(ctx context.Context, log *slog.Logger, task *course.StepTask) (*course.StepResult, error) {
	in, err := w.Store.LoadStep(ctx, task)
	if err != nil {
		return nil, err
	}
	res := &course.StepResult{Fingerprint: in.Fingerprint}
	if in.Existing != nil {
		res.Reused = in.Existing // unchanged node: no model call
		return res, nil
	}
	if err := w.rankContext(ctx, log, task, in); err != nil {
		return nil, err
	}
	cc, st := course.AssembleContext(in, task.Mode, w.Opts.Budget)
	if st.Truncated {
		log.Info("context_truncated", "selected_chunks", st.SelectedChunks, "total_chunks", st.TotalChunks,
			"selected_tokens", st.SelectedTokens, "total_tokens", st.TotalTokens, "ranking", in.Ranking)
	}
	req, ref, err := w.request(task, &cc)
	if err != nil {
		return nil, err
	}
	jobID := task.Job.ID
	comp, err := w.LLM.Complete(ctx, course.LLMCall{Action: course.ActionCourseStructuring, Strategy: w.Opts.Strategy,
		TenantID: &task.TenantID, JobID: &jobID, PromptRef: ref}, req)
	if err != nil {
		return nil, err
	}
	var s course.Structure
	if err := json.Unmarshal(comp.JSON, &s); err != nil {
		return nil, fmt.Errorf("decode structure: %w", err)
	}
	callID := comp.Usage.CallID
	res.Structure, res.Parsed, res.CallID = comp.JSON, &s, &callID
	return res, nil
}

// stepPrompt names the prompt of a step and mode.
func stepPrompt(step, mode string) string {
	switch step {
	case course.StepReconcile:
		return llm.PromptReconcile
	case course.StepRefine:
		return llm.PromptRefine
	}
	return llm.GenerationPrompt(mode)
}

// request renders the step's prompt around the context.
func (w *StepWorker) request(task *course.StepTask, cc *course.StructureContext) (course.CompletionRequest, string, error) {
	ctxJSON, err := json.Marshal(cc)
	if err != nil {
		return course.CompletionRequest{}, "", fmt.Errorf("encode context: %w", err)
	}
	data := llm.PromptData{Context: string(ctxJSON), Mode: task.Mode, NodeTitle: cc.Target.Title,
		NodeDescription: cc.Target.Description, Outline: jsonOrEmpty(cc.MaterialTree),
		ChildrenSummaries: jsonOrEmpty(cc.ChildrenSummaries), SiblingSummaries: jsonOrEmpty(cc.SiblingSummaries),
		CurrentStructure: "(none)"}
	if cc.ParentSummary != nil {
		data.ParentSummary = jsonOrEmpty(cc.ParentSummary)
	}
	if len(cc.CurrentStructure) > 0 {
		data.CurrentStructure = string(cc.CurrentStructure)
	}
	r, err := w.Prompts.Render(stepPrompt(task.Step, task.Mode), data)
	if err != nil {
		return course.CompletionRequest{}, "", err
	}
	zero := 0.0
	return course.CompletionRequest{
		System:      r.System,
		Messages:    []course.LLMMessage{{Role: "user", Parts: []course.LLMPart{{Text: r.User}}}},
		Temperature: &zero, MaxTokens: w.Opts.MaxTokens,
		Schema: llm.CourseStructureSchema(), SchemaName: "course_structure",
		Check: llm.CheckCourseStructure, Context: ctxJSON,
	}, r.Version, nil
}

func jsonOrEmpty[T any](v T) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

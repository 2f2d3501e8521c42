package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// Options configure a Router.
type Options struct {
	Registry *Registry
	Recorder course.CallRecorder // audit rows; required
	Metrics  *Metrics            // nil records nothing
	Log      *slog.Logger
	// AttemptsPerModel is LLM_ATTEMPTS_PER_MODEL (default 2).
	AttemptsPerModel int
	// RequestTimeout bounds one provider call (LLM_REQUEST_TIMEOUT, 300 s).
	RequestTimeout time.Duration
	// BuiltinAllowed makes the offline builtin provider usable.
	BuiltinAllowed bool
	// Backoff is the wait after attempt n (1 s, 2 s); a Retry-After of at
	// most MaxRetryAfter replaces it.
	Backoff []time.Duration
	// HTTPClient carries every provider call; nil = a fresh client.
	HTTPClient *http.Client
	// Providers replaces the provider built for a registry name (tests).
	Providers map[string]Provider
	// Sleep waits between attempts; tests record instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// MaxRetryAfter is the longest Retry-After the router waits for.
const MaxRetryAfter = 30 * time.Second

// Router walks an action's chain of models: skip unusable models, retry
// retryable failures with backoff, move on after permanent ones, fall
// back from a named strategy to the default chain, and audit every
// attempt. It implements course.LLM.
type Router struct {
	o         Options
	providers map[string]Provider
}

var _ course.LLM = (*Router)(nil)

// New builds the providers of the registry.
func New(o Options) (*Router, error) {
	if o.Registry == nil || o.Recorder == nil {
		return nil, errors.New("llm: registry and recorder are required")
	}
	if o.AttemptsPerModel <= 0 {
		o.AttemptsPerModel = 2
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 300 * time.Second
	}
	if o.Backoff == nil {
		o.Backoff = []time.Duration{time.Second, 2 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	r := &Router{o: o, providers: map[string]Provider{}}
	for name, p := range o.Registry.Providers {
		switch {
		case o.Providers[name] != nil:
			r.providers[name] = o.Providers[name]
		case p.Kind == KindOpenAI:
			r.providers[name] = newOpenAI(p, hc)
		case p.Kind == KindAnthropic:
			r.providers[name] = newAnthropic(p, hc, o.RequestTimeout)
		case p.Kind == KindBuiltin:
			r.providers[name] = Builtin{}
		}
	}
	return r, nil
}

// Configured reports whether any chain of action holds a usable model.
func (r *Router) Configured(action string) bool {
	a, ok := r.o.Registry.Actions[action]
	if !ok {
		return false
	}
	for _, chain := range a.Chains {
		for _, id := range chain {
			if r.usable(a, id) {
				return true
			}
		}
	}
	return false
}

func (r *Router) usable(a *ActionSpec, id string) bool {
	m, ok := r.o.Registry.Models[id]
	if !ok || !m.Has(a.Requires) {
		return false
	}
	p := r.o.Registry.Providers[m.Provider]
	return p != nil && p.Usable(r.o.BuiltinAllowed) && r.providers[m.Provider] != nil
}

// Complete asks the action's chain for a reply. With req.Schema the reply
// must be one JSON object valid against it (and req.Check); a reply that
// is not fails that attempt as retryable.
func (r *Router) Complete(ctx context.Context, call course.LLMCall, req course.CompletionRequest) (*course.Completion, error) {
	var parsed json.RawMessage
	reply, usage, err := r.run(ctx, call, "tokens",
		func(ctx context.Context, p Provider, m *ModelSpec) (*Reply, error) { return p.Complete(ctx, m, req) },
		func(rep *Reply) error {
			if len(req.Schema) == 0 {
				if strings.TrimSpace(rep.Text) == "" {
					return retryable("empty reply", nil)
				}
				return nil
			}
			obj, err := parseReply(rep.Text)
			if err != nil {
				return retryable("reply is not a JSON object", err)
			}
			if err := validateSchema(req.Schema, obj); err != nil {
				return retryable("reply failed validation", err)
			}
			if req.Check != nil {
				if err := req.Check(obj); err != nil {
					return retryable("reply failed validation", err)
				}
			}
			parsed = obj
			return nil
		})
	if err != nil {
		return nil, err
	}
	return &course.Completion{Text: reply.Text, JSON: parsed, Usage: usage}, nil
}

// Transcribe sends one audio file along the transcribe chain; the audit
// units are seconds of audio.
func (r *Router) Transcribe(ctx context.Context, call course.LLMCall, req course.TranscriptionRequest) (*course.Transcription, error) {
	reply, usage, err := r.run(ctx, call, "seconds",
		func(ctx context.Context, p Provider, m *ModelSpec) (*Reply, error) { return p.Transcribe(ctx, m, req) }, nil)
	if err != nil {
		return nil, err
	}
	return &course.Transcription{Segments: reply.Segments, Usage: usage}, nil
}

// Embed embeds a batch of texts along the embed chain.
func (r *Router) Embed(ctx context.Context, call course.LLMCall, texts []string) (*course.Embeddings, error) {
	reply, usage, err := r.run(ctx, call, "tokens",
		func(ctx context.Context, p Provider, m *ModelSpec) (*Reply, error) { return p.Embed(ctx, m, texts) },
		func(rep *Reply) error {
			if len(rep.Vectors) != len(texts) {
				return retryable(fmt.Sprintf("%d vectors for %d texts", len(rep.Vectors), len(texts)), nil)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return &course.Embeddings{Vectors: reply.Vectors, Usage: usage}, nil
}

type callFn func(ctx context.Context, p Provider, m *ModelSpec) (*Reply, error)

// step is one chain walked under a recorded strategy label.
type step struct {
	label  string
	models []string
}

// plan returns the chains to walk: the requested strategy (an unknown one
// means default), then, for any other strategy, the default chain
// recorded as "<requested>->default".
func plan(a *ActionSpec, strategy string) []step {
	if strategy == "" {
		strategy = course.StrategyDefault
	}
	chain, ok := a.Chains[strategy]
	if !ok {
		strategy, chain = course.StrategyDefault, a.Chains[course.StrategyDefault]
	}
	steps := []step{{label: strategy, models: chain}}
	if strategy != course.StrategyDefault {
		steps = append(steps, step{label: strategy + "->" + course.StrategyDefault, models: a.Chains[course.StrategyDefault]})
	}
	return steps
}

// run is the chain walk shared by every kind of call.
func (r *Router) run(ctx context.Context, call course.LLMCall, unitType string, do callFn, check func(*Reply) error) (*Reply, course.LLMUsage, error) {
	a, ok := r.o.Registry.Actions[call.Action]
	if !ok {
		return nil, course.LLMUsage{}, fmt.Errorf("action %q: %w", call.Action, course.ErrLLMNotConfigured)
	}
	var (
		attempts, permanents int
		last                 error
		tried                = map[string]bool{}
	)
	for _, st := range plan(a, call.Strategy) {
		for _, id := range st.models {
			if tried[id] {
				continue
			}
			if !r.usable(a, id) {
				r.o.Log.Debug("llm_model_skipped", "action", call.Action, "model_id", id)
				continue
			}
			tried[id] = true
			m := r.o.Registry.Models[id]
			for n := 1; n <= r.o.AttemptsPerModel; n++ {
				reply, usage, err := r.attempt(ctx, call, st.label, unitType, m, do, check)
				attempts++
				if err == nil {
					return reply, usage, nil
				}
				if ctx.Err() != nil {
					return nil, course.LLMUsage{}, fmt.Errorf("llm call cancelled: %w", context.Cause(ctx))
				}
				last = err
				var ce *CallError
				if errors.As(err, &ce) && ce.Permanent {
					permanents++
					break
				}
				if n < r.o.AttemptsPerModel {
					if err := r.o.Sleep(ctx, r.wait(n, ce)); err != nil {
						return nil, course.LLMUsage{}, fmt.Errorf("llm call cancelled: %w", err)
					}
				}
			}
		}
	}
	if attempts == 0 {
		return nil, course.LLMUsage{}, fmt.Errorf("action %q: %w", call.Action, course.ErrLLMNotConfigured)
	}
	return nil, course.LLMUsage{}, &course.AllModelsFailedError{
		Action: call.Action, Permanent: permanents == attempts, Attempts: attempts, Last: last,
	}
}

// wait is the pause after attempt n: the backoff, or the provider's
// Retry-After when it asks for at most MaxRetryAfter.
func (r *Router) wait(n int, ce *CallError) time.Duration {
	if ce != nil && ce.RetryAfter > 0 && ce.RetryAfter <= MaxRetryAfter {
		return ce.RetryAfter
	}
	return r.o.Backoff[min(n-1, len(r.o.Backoff)-1)]
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// attempt makes one provider call under LLM_REQUEST_TIMEOUT and audits it.
func (r *Router) attempt(ctx context.Context, call course.LLMCall, strategy, unitType string, m *ModelSpec,
	do callFn, check func(*Reply) error) (*Reply, course.LLMUsage, error) {
	actx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
	defer cancel()
	start := time.Now()
	reply, err := do(actx, r.providers[m.Provider], m)
	if err == nil && check != nil {
		err = check(reply)
	}
	latency := time.Since(start)
	var ce *CallError
	switch {
	case err == nil:
	case ctx.Err() != nil: // the caller (job) was cancelled: not the provider's fault
	case errors.Is(actx.Err(), context.DeadlineExceeded) && !errors.As(err, &ce):
		err = retryable("request timed out", err)
	case !errors.As(err, &ce):
		err = retryable("request failed", err)
	}
	row := r.row(call, strategy, unitType, m, reply, err, latency)
	r.record(ctx, row)
	r.o.Metrics.observe(row, outcome(ctx, err), latency)
	if err != nil {
		r.o.Log.Warn("llm_attempt_failed", "action", call.Action, "strategy", strategy, "model_id", m.ID,
			"provider", m.Provider, "error", err, "latency_ms", latency.Milliseconds())
		return nil, course.LLMUsage{}, err
	}
	return reply, course.LLMUsage{
		CallID: row.ID, Strategy: strategy, Provider: m.Provider, ModelID: m.ID, ProviderModel: m.ProviderModel,
		UnitsIn: reply.UnitsIn, UnitsOut: reply.UnitsOut, CostUSD: row.CostUSD,
	}, nil
}

// record writes the audit row even when the caller was just cancelled:
// the attempt happened and may have been billed.
func (r *Router) record(ctx context.Context, row *course.ExternalCall) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.o.Recorder.RecordCall(rctx, row); err != nil {
		r.o.Log.Error("llm_audit_failed", "action", row.Action, "model_id", row.ModelID, "error", err)
	}
}

func outcome(ctx context.Context, err error) string {
	var ce *CallError
	switch {
	case err == nil:
		return "success"
	case ctx.Err() != nil:
		return "cancelled"
	case errors.As(err, &ce) && ce.Permanent:
		return "permanent"
	}
	return "retryable"
}

// row builds the audit row of one attempt. A reply that failed validation
// still consumed (and was billed for) its tokens, so its units and cost
// are kept.
func (r *Router) row(call course.LLMCall, strategy, unitType string, m *ModelSpec, reply *Reply, err error, latency time.Duration) *course.ExternalCall {
	if m.Cost != nil && m.Cost.Unit != "" {
		unitType = m.Cost.Unit
	}
	ms := latency.Milliseconds()
	row := &course.ExternalCall{
		TenantID: call.TenantID, JobID: call.JobID, Action: call.Action, Strategy: strategy,
		Provider: m.Provider, ModelID: m.ID, ProviderModel: strPtr(m.ProviderModel), PromptRef: strPtr(call.PromptRef),
		UnitType: &unitType, LatencyMS: &ms, Success: err == nil,
	}
	if reply != nil {
		row.UnitIn, row.UnitOut = &reply.UnitsIn, &reply.UnitsOut
		row.CostUSD = Price(m.Cost, reply.UnitsIn, reply.UnitsOut)
	}
	if err != nil {
		msg := err.Error()
		row.ErrorMessage = &msg
	}
	return row
}

// Price is the cost of an attempt: tokens in/1000 × in_per_1k + out/1000 ×
// out_per_1k, or seconds/60 × per_minute. A price the registry does not
// state for units that were used makes the cost unknown (nil), never 0.
func Price(c *Cost, in, out int64) *float64 {
	if c == nil {
		return nil
	}
	var v float64
	switch c.Unit {
	case "seconds":
		if c.PerMinute == nil {
			return nil
		}
		v = float64(in) / 60 * *c.PerMinute
	case "tokens":
		if (c.InPer1K == nil && c.OutPer1K == nil) || (in > 0 && c.InPer1K == nil) || (out > 0 && c.OutPer1K == nil) {
			return nil
		}
		if c.InPer1K != nil {
			v += float64(in) / 1000 * *c.InPer1K
		}
		if c.OutPer1K != nil {
			v += float64(out) / 1000 * *c.OutPer1K
		}
	default:
		return nil
	}
	return &v
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

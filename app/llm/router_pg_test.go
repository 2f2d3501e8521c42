package llm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

const chainRegistry = `
providers:
  ant: {kind: anthropic, base_url: "${ANT_URL}", api_key_env: ANT_KEY}
  nokey: {kind: openai_compatible, base_url: "https://nokey.invalid/v1", api_key_env: NOKEY_KEY}
  off: {kind: openai_compatible, base_url: "${GOOD_URL}", api_key_env: GOOD_KEY, enabled: false}
  flaky: {kind: openai_compatible, base_url: "${FLAKY_URL}", api_key_env: FLAKY_KEY}
  good: {kind: openai_compatible, base_url: "${GOOD_URL}", api_key_env: GOOD_KEY}
models:
  claude: {provider: ant, provider_model: claude-x, capabilities: [structured_output], structured_output: tool,
           cost: {unit: tokens, in_per_1k: 0.003, out_per_1k: 0.015}}
  keyless: {provider: nokey, provider_model: k, capabilities: [structured_output, vision], structured_output: json_schema}
  disabled: {provider: off, provider_model: d, capabilities: [structured_output]}
  flaky-chat: {provider: flaky, provider_model: flaky-v1, capabilities: [structured_output], structured_output: json_object}
  good-chat: {provider: good, provider_model: good-v2, capabilities: [structured_output], structured_output: json_schema,
              cost: {unit: tokens, in_per_1k: 0.001, out_per_1k: 0.002}}
actions:
  course_structuring:
    requires: [structured_output]
    chains:
      default: [disabled, flaky-chat, good-chat]
      quality: [claude, keyless]
  presentation_analysis:
    requires: [vision]
    chains:
      default: [keyless]
`

// auditRow is what the chain-walk assertions read back from PostgreSQL.
type auditRow struct {
	ModelID, Strategy, Provider string
	ProviderModel               *string
	Success                     bool
	UnitIn                      *int64
	Cost                        *float64
	Error                       *string
	TenantID, JobID             *uuid.UUID
}

type chainEnv struct {
	db     *postgres.DB
	tenant uuid.UUID
}

func mustChainEnv(t *testing.T) *chainEnv {
	t.Helper()
	db, err := postgres.Open(context.Background(), testdb.New(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	e := &chainEnv{db: db, tenant: uuid.Must(uuid.NewV7())}
	e.exec(t, `INSERT INTO tenants (id, name) VALUES ($1, 'acme')`, e.tenant)
	return e
}

func (e *chainEnv) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// call returns the caller identity of a fresh job of the tenant.
func (e *chainEnv) call(t *testing.T, action, strategy string) course.LLMCall {
	t.Helper()
	job := uuid.Must(uuid.NewV7())
	e.exec(t, `INSERT INTO jobs (id, tenant_id, job_type, max_attempts) VALUES ($1, $2, 'generate', 3)`, job, e.tenant)
	return course.LLMCall{Action: action, Strategy: strategy, TenantID: &e.tenant, JobID: &job, PromptRef: "v1_free"}
}

func (e *chainEnv) rows(t *testing.T, job *uuid.UUID) []auditRow {
	t.Helper()
	rs, err := e.db.Pool.Query(context.Background(), `SELECT model_id, strategy, provider, provider_model, success, unit_in,
		cost_usd::float8, error_message, tenant_id, job_id FROM external_service_calls WHERE job_id = $1 ORDER BY id`, job)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []auditRow
	for rs.Next() {
		var r auditRow
		if err := rs.Scan(&r.ModelID, &r.Strategy, &r.Provider, &r.ProviderModel, &r.Success, &r.UnitIn, &r.Cost, &r.Error, &r.TenantID, &r.JobID); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (e *chainEnv) router(t *testing.T, vars map[string]string) (*Router, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	r, err := New(Options{Registry: mustRegistry(t, chainRegistry, vars), Recorder: postgres.NewCallStore(e.db),
		Sleep: sl.sleep, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r, sl
}

type walked struct {
	model, strategy string
	success         bool
}

func assertWalk(t *testing.T, rows []auditRow, want []walked) {
	t.Helper()
	if len(rows) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		if r := rows[i]; r.ModelID != w.model || r.Strategy != w.strategy || r.Success != w.success {
			t.Errorf("row %d: %s/%s success=%v, want %s/%s success=%v", i, r.ModelID, r.Strategy, r.Success, w.model, w.strategy, w.success)
		}
	}
}

// Ensure the chain walk as the audit records it: a permanent failure skips
// the model after one attempt, a model without a key and a disabled
// provider are skipped unseen, a retryable failure is retried with the
// backoff, the exhausted quality chain falls back to the default chain
// recorded as quality->default, and the success row is the one the
// completion points at, with tenant, job, units and cost (NULL when the
// price is unknown).
func TestChainWalkFromAuditRows(t *testing.T) {
	t.Parallel()
	e := mustChainEnv(t)
	ant := mustFake(t, answer{Status: 401, Body: anthropicError("authentication_error", "invalid x-api-key")})
	flaky := mustFake(t, answer{Status: 500, Body: openAIError("server_error", "", "boom")},
		answer{Status: 200, Body: chatOK(`{"title":"broken"}`, 700, 30)})
	good := mustFake(t, answer{Status: 200, Body: chatOK(validOutline, 2000, 500)})
	r, sl := e.router(t, map[string]string{"ANT_URL": ant.URL, "ANT_KEY": "a", "FLAKY_URL": flaky.URL, "FLAKY_KEY": "f",
		"GOOD_URL": good.URL, "GOOD_KEY": "g"})
	call := e.call(t, course.ActionCourseStructuring, "quality")
	out, err := r.Complete(context.Background(), call, structuringRequest())
	if err != nil {
		t.Fatal(err)
	}
	rows := e.rows(t, call.JobID)
	assertWalk(t, rows, []walked{
		{"claude", "quality", false},
		{"flaky-chat", "quality->default", false},
		{"flaky-chat", "quality->default", false},
		{"good-chat", "quality->default", true},
	})
	if len(sl.d) != 1 || sl.d[0] != time.Second {
		t.Errorf("waits %v, want one backoff of 1s", sl.d)
	}
	for _, row := range rows {
		if *row.TenantID != e.tenant || *row.JobID != *call.JobID {
			t.Errorf("row without the caller: %+v", row)
		}
	}
	if rows[0].UnitIn != nil || rows[0].Cost != nil || rows[0].Error == nil {
		t.Errorf("a rejected attempt has no units or cost: %+v", rows[0])
	}
	// The invalid reply consumed tokens: units kept, price unknown -> NULL.
	if *rows[2].UnitIn != 700 || rows[2].Cost != nil || *rows[2].ProviderModel != "flaky-v1" {
		t.Errorf("invalid reply row %+v", rows[2])
	}
	if *rows[3].Cost != 2*0.001+0.5*0.002 || out.Usage.Strategy != "quality->default" || out.Usage.ModelID != "good-chat" {
		t.Errorf("success row %+v, usage %+v", rows[3], out.Usage)
	}
	var id uuid.UUID
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM external_service_calls WHERE job_id = $1 AND success`, call.JobID).Scan(&id); err != nil || id != out.Usage.CallID {
		t.Errorf("completion points at %s, success row is %s (%v)", out.Usage.CallID, id, err)
	}
	if len(ant.requests()) != 1 || len(good.requests()) != 1 {
		t.Errorf("requests: anthropic %d, good %d", len(ant.requests()), len(good.requests()))
	}
}

// Ensure AllModelsFailed is permanent when every attempt failed
// permanently, retryable otherwise, and "not configured" when no model
// was usable, each as the audit shows.
func TestAllModelsFailedClasses(t *testing.T) {
	t.Parallel()
	e := mustChainEnv(t)
	bad := answer{Status: 400, Body: openAIError("invalid_request_error", "", "bad request")}
	down := answer{Status: 503, Body: openAIError("server_error", "", "unavailable")}

	flaky, good := mustFake(t, bad), mustFake(t, bad)
	r, _ := e.router(t, map[string]string{"FLAKY_URL": flaky.URL, "FLAKY_KEY": "f", "GOOD_URL": good.URL, "GOOD_KEY": "g"})
	call := e.call(t, course.ActionCourseStructuring, "")
	_, err := r.Complete(context.Background(), call, structuringRequest())
	var amf *course.AllModelsFailedError
	if !errors.As(err, &amf) || !amf.Permanent || amf.Attempts != 2 {
		t.Fatalf("all permanent: %v", err)
	}
	assertWalk(t, e.rows(t, call.JobID), []walked{{"flaky-chat", "default", false}, {"good-chat", "default", false}})

	flaky, good = mustFake(t, bad), mustFake(t, down)
	r, _ = e.router(t, map[string]string{"FLAKY_URL": flaky.URL, "FLAKY_KEY": "f", "GOOD_URL": good.URL, "GOOD_KEY": "g"})
	call = e.call(t, course.ActionCourseStructuring, "no-such-strategy")
	_, err = r.Complete(context.Background(), call, structuringRequest())
	if !errors.As(err, &amf) || amf.Permanent || amf.Attempts != 3 {
		t.Fatalf("mixed: %v", err)
	}
	assertWalk(t, e.rows(t, call.JobID), []walked{{"flaky-chat", "default", false}, {"good-chat", "default", false}, {"good-chat", "default", false}})

	call = e.call(t, course.ActionPresentationAnalysis, "")
	if _, err := r.Complete(context.Background(), call, course.CompletionRequest{}); !errors.Is(err, course.ErrLLMNotConfigured) || r.Configured(course.ActionPresentationAnalysis) {
		t.Fatalf("no usable model: %v", err)
	}
	if n := len(e.rows(t, call.JobID)); n != 0 {
		t.Fatalf("%d rows for a call no model could serve", n)
	}
}

// Ensure a cancelled job stops its call at once: the attempt in flight is
// abandoned and audited, and no further attempt or model is tried.
func TestCancelledJobStopsTheCall(t *testing.T) {
	t.Parallel()
	e := mustChainEnv(t)
	flaky := mustFake(t, answer{Hang: true})
	good := mustFake(t, answer{Status: 200, Body: chatOK(validOutline, 1, 1)})
	r, _ := e.router(t, map[string]string{"FLAKY_URL": flaky.URL, "FLAKY_KEY": "f", "GOOD_URL": good.URL, "GOOD_KEY": "g"})
	call := e.call(t, course.ActionCourseStructuring, "")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-flaky.arrived; cancel() }()
	_, err := r.Complete(ctx, call, structuringRequest())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	assertWalk(t, e.rows(t, call.JobID), []walked{{"flaky-chat", "default", false}})
	if len(good.requests()) != 0 {
		t.Fatal("the next model was called after the job was cancelled")
	}
}

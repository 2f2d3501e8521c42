package api_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// Ensure GET /reports/cost answers the spec's CostReport for the caller's
// rows, honours the range (from inclusive, to exclusive), is readable with
// a check-only key, and refuses malformed or inverted bounds with 422.
func TestCostReportEndpoint(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant := s.mustTenant("acme")
	key := s.mustKey(tenant, keyOpts{scopes: `["check"]`})
	seed := func(action, provider, model string, ok bool, in, out, latency int, cost any, at string) {
		s.exec(`INSERT INTO external_service_calls (id, tenant_id, action, strategy, provider, model_id, success,
			unit_in, unit_out, latency_ms, cost_usd, created_at) VALUES ($1, $2, $3, 'default', $4, $5, $6, $7, $8, $9, $10, $11)`,
			uuid.New(), tenant, action, provider, model, ok, in, out, latency, cost, at)
	}
	seed("course_structuring", "builtin", "builtin-outline", true, 1200, 800, 5, 0.0, "2026-03-01T10:00:00Z")
	seed("transcribe", "openai", "whisper-1", true, 600, 0, 9000, 0.06, "2026-03-02T10:00:00Z")
	seed("transcribe", "openai", "whisper-1", false, 0, 0, 100, nil, "2026-03-03T10:00:00Z")

	r := s.call(http.MethodGet, "/api/v1/reports/cost", key, nil)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	body := r.json(t)
	sum := body["summary"].(map[string]any)
	want := map[string]float64{"total_calls": 3, "successful_calls": 2, "failed_calls": 1, "total_cost_usd": 0.06,
		"total_units_in": 1800, "total_units_out": 800, "avg_latency_ms": 3035}
	for k, v := range want {
		if sum[k] != v {
			t.Errorf("summary.%s = %v, want %v", k, sum[k], v)
		}
	}
	byModel := body["by_model"].([]any)
	first := byModel[0].(map[string]any)
	if len(byModel) != 2 || first["group"] != "whisper-1" || first["calls"] != 2.0 || first["cost_usd"] != 0.06 || first["avg_latency_ms"] != 4550.0 ||
		byModel[1].(map[string]any)["group"] != "builtin-outline" || len(body["by_action"].([]any)) != 2 || len(body["by_provider"].([]any)) != 2 {
		t.Errorf("groups %s", r.Raw)
	}

	r = s.call(http.MethodGet, "/api/v1/reports/cost?from=2026-03-02T00:00:00Z&to=2026-03-03T10:00:00Z", key, nil)
	if sum := r.json(t)["summary"].(map[string]any); r.Status != 200 || sum["total_calls"] != 1.0 || sum["total_cost_usd"] != 0.06 {
		t.Errorf("range: %d %s", r.Status, r.Raw)
	}
	for _, q := range []string{"?from=yesterday", "?to=2026-13-01", "?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z"} {
		if r := s.call(http.MethodGet, "/api/v1/reports/cost"+q, key, nil); r.Status != http.StatusUnprocessableEntity || r.json(t)["detail"] == nil {
			t.Errorf("%s: %d %s", q, r.Status, r.Raw)
		}
	}
}

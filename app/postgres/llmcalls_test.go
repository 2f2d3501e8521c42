package postgres_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

func i64(v int64) *int64     { return &v }
func f64(v float64) *float64 { return &v }
func str(v string) *string   { return &v }
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// seedCalls writes the audit rows of the cost report test through the
// store itself (RecordCall), for two tenants.
func seedCalls(t *testing.T, store *postgres.CallStore, a, b uuid.UUID) {
	t.Helper()
	row := func(tenant uuid.UUID, action, provider, model string, ok bool, in, out, lat *int64, cost *float64, when string) *course.ExternalCall {
		return &course.ExternalCall{TenantID: &tenant, Action: action, Strategy: "default", Provider: provider, ModelID: model,
			UnitType: str("tokens"), UnitIn: in, UnitOut: out, LatencyMS: lat, CostUSD: cost, Success: ok, CreatedAt: at(when)}
	}
	rows := []*course.ExternalCall{
		row(a, "course_structuring", "gemini", "gemini-2.5-flash", true, i64(1000), i64(500), i64(1200), f64(0.00155), "2026-03-01T00:00:00Z"),
		row(a, "course_structuring", "deepseek", "deepseek-chat", false, nil, nil, i64(300), nil, "2026-03-01T11:00:00Z"),
		row(a, "course_structuring", "deepseek", "deepseek-chat", true, i64(2000), i64(800), i64(2500), f64(0.000896), "2026-03-02T09:00:00Z"),
		row(a, "transcribe", "openai", "whisper-1", true, i64(600), i64(0), i64(9000), f64(0.06), "2026-03-03T12:00:00Z"),
		// Unknown price: the cost stays NULL and is not counted as 0 calls' worth.
		row(a, "embed", "openai", "text-embedding-3-small", true, i64(5000), i64(0), nil, nil, "2026-03-05T00:00:00Z"),
		row(a, "presentation_analysis", "openai", "gpt-4o-mini", false, nil, nil, i64(100), nil, "2026-02-28T23:59:59Z"),
		// The other tenant: large numbers that would show in any leak.
		row(b, "course_structuring", "gemini", "gemini-2.5-flash", true, i64(99999), i64(99999), i64(99999), f64(5), "2026-03-02T00:00:00Z"),
		row(b, "embed", "openai", "text-embedding-3-small", false, nil, nil, i64(7), nil, "2026-03-02T00:00:00Z"),
	}
	for _, r := range rows {
		if err := store.RecordCall(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// Ensure every field of the cost report against hand-computed values:
// NULL costs and latencies ignored, ordering calls DESC then group ASC,
// the range bounds (from inclusive, to exclusive), and the other tenant's
// rows never counted.
func TestCostReport(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	ctx := context.Background()
	a, b := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	for _, id := range []uuid.UUID{a, b} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO tenants (id, name) VALUES ($1, $2)`, id, id.String()); err != nil {
			t.Fatal(err)
		}
	}
	store := postgres.NewCallStore(db)
	seedCalls(t, store, a, b)

	got, err := store.CostReport(ctx, a, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &course.CostReport{
		Summary: course.CostSummary{TotalCalls: 6, SuccessfulCalls: 4, FailedCalls: 2, TotalCostUSD: 0.062446,
			TotalUnitsIn: 8600, TotalUnitsOut: 1300, AvgLatencyMS: 2620},
		ByAction: []course.CostGroup{
			{Group: "course_structuring", Calls: 3, CostUSD: 0.002446, UnitsIn: 3000, UnitsOut: 1300, AvgLatencyMS: 1333.33},
			{Group: "embed", Calls: 1, CostUSD: 0, UnitsIn: 5000, UnitsOut: 0, AvgLatencyMS: 0},
			{Group: "presentation_analysis", Calls: 1, CostUSD: 0, UnitsIn: 0, UnitsOut: 0, AvgLatencyMS: 100},
			{Group: "transcribe", Calls: 1, CostUSD: 0.06, UnitsIn: 600, UnitsOut: 0, AvgLatencyMS: 9000},
		},
		ByProvider: []course.CostGroup{
			{Group: "openai", Calls: 3, CostUSD: 0.06, UnitsIn: 5600, UnitsOut: 0, AvgLatencyMS: 4550},
			{Group: "deepseek", Calls: 2, CostUSD: 0.000896, UnitsIn: 2000, UnitsOut: 800, AvgLatencyMS: 1400},
			{Group: "gemini", Calls: 1, CostUSD: 0.00155, UnitsIn: 1000, UnitsOut: 500, AvgLatencyMS: 1200},
		},
		ByModel: []course.CostGroup{
			{Group: "deepseek-chat", Calls: 2, CostUSD: 0.000896, UnitsIn: 2000, UnitsOut: 800, AvgLatencyMS: 1400},
			{Group: "gemini-2.5-flash", Calls: 1, CostUSD: 0.00155, UnitsIn: 1000, UnitsOut: 500, AvgLatencyMS: 1200},
			{Group: "gpt-4o-mini", Calls: 1, CostUSD: 0, UnitsIn: 0, UnitsOut: 0, AvgLatencyMS: 100},
			{Group: "text-embedding-3-small", Calls: 1, CostUSD: 0, UnitsIn: 5000, UnitsOut: 0, AvgLatencyMS: 0},
			{Group: "whisper-1", Calls: 1, CostUSD: 0.06, UnitsIn: 600, UnitsOut: 0, AvgLatencyMS: 9000},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("report\n got %+v\nwant %+v", got, want)
	}

	from, to := at("2026-03-01T00:00:00Z"), at("2026-03-05T00:00:00Z")
	got, err = store.CostReport(ctx, a, &from, &to)
	if err != nil {
		t.Fatal(err)
	}
	wantSummary := course.CostSummary{TotalCalls: 4, SuccessfulCalls: 3, FailedCalls: 1, TotalCostUSD: 0.062446,
		TotalUnitsIn: 3600, TotalUnitsOut: 1300, AvgLatencyMS: 3250}
	if got.Summary != wantSummary || len(got.ByAction) != 2 || got.ByAction[0].Group != "course_structuring" || got.ByAction[1].Group != "transcribe" {
		t.Fatalf("range report %+v", got)
	}

	none := uuid.Must(uuid.NewV7())
	got, err = store.CostReport(ctx, none, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != (course.CostSummary{}) || got.ByAction == nil || len(got.ByAction)+len(got.ByProvider)+len(got.ByModel) != 0 {
		t.Fatalf("empty report %+v", got)
	}
}

// Ensure the stored error text is cut to 2000 characters.
func TestRecordCallTruncatesError(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	store := postgres.NewCallStore(db)
	c := &course.ExternalCall{Action: "embed", Strategy: "default", Provider: "openai", ModelID: "m", ErrorMessage: str(strings.Repeat("é", 5000))}
	if err := store.RecordCall(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT char_length(error_message) FROM external_service_calls WHERE id = $1`, c.ID).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("stored %d characters (%v)", n, err)
	}
}

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// costReportSQL computes the summary and the three breakdowns in one pass
// with grouping sets. GROUPING() tells the sets apart: 7 is the total,
// 3 by action, 5 by provider, 6 by model id. Only the caller's rows are
// read; a NULL cost is ignored by sum() (unknown, not free), and the
// total row exists even when no call matches. Group names are ordered
// byte-wise (COLLATE "C") so the order never depends on the locale.
const costReportSQL = `
SELECT GROUPING(action, provider, model_id) AS g,
       COALESCE(action, provider, model_id, '') AS grp,
       count(*),
       count(*) FILTER (WHERE success),
       round(COALESCE(sum(cost_usd), 0), 6)::float8,
       COALESCE(sum(unit_in), 0)::bigint,
       COALESCE(sum(unit_out), 0)::bigint,
       round(COALESCE(avg(latency_ms), 0), 2)::float8
FROM external_service_calls
WHERE tenant_id = $1
  AND ($2::timestamptz IS NULL OR created_at >= $2)
  AND ($3::timestamptz IS NULL OR created_at < $3)
GROUP BY GROUPING SETS ((), (action), (provider), (model_id))
ORDER BY g, count(*) DESC, COALESCE(action, provider, model_id, '') COLLATE "C" ASC`

// CostReport implements course.CostReporter.
func (s *CallStore) CostReport(ctx context.Context, tenantID uuid.UUID, from, to *time.Time) (*course.CostReport, error) {
	rows, err := s.db.Pool.Query(ctx, costReportSQL, tenantID, from, to)
	if err != nil {
		return nil, fmt.Errorf("cost report: %w", err)
	}
	defer rows.Close()
	r := &course.CostReport{ByAction: []course.CostGroup{}, ByProvider: []course.CostGroup{}, ByModel: []course.CostGroup{}}
	for rows.Next() {
		var (
			g         int
			cg        course.CostGroup
			successes int64
		)
		if err := rows.Scan(&g, &cg.Group, &cg.Calls, &successes, &cg.CostUSD, &cg.UnitsIn, &cg.UnitsOut, &cg.AvgLatencyMS); err != nil {
			return nil, fmt.Errorf("cost report row: %w", err)
		}
		switch g {
		case 7:
			r.Summary = course.CostSummary{
				TotalCalls: cg.Calls, SuccessfulCalls: successes, FailedCalls: cg.Calls - successes,
				TotalCostUSD: cg.CostUSD, TotalUnitsIn: cg.UnitsIn, TotalUnitsOut: cg.UnitsOut, AvgLatencyMS: cg.AvgLatencyMS,
			}
		case 3:
			r.ByAction = append(r.ByAction, cg)
		case 5:
			r.ByProvider = append(r.ByProvider, cg)
		case 6:
			r.ByModel = append(r.ByModel, cg)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cost report rows: %w", err)
	}
	return r, nil
}

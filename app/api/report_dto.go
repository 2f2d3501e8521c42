package api

import "github.com/course-supporter/course-supporter/app/course"

// CostReportResponse is the CostReport of docs/design/llm.md: the caller's external
// AI calls in the range, totalled and grouped (docs/design/llm.md).
type CostReportResponse struct {
	Summary    CostSummaryDTO `json:"summary"`
	ByAction   []CostGroupDTO `json:"by_action" doc:"Grouped by action; ordered by calls descending, then group"`
	ByProvider []CostGroupDTO `json:"by_provider" doc:"Grouped by registry provider; same order"`
	ByModel    []CostGroupDTO `json:"by_model" doc:"Grouped by registry model id; same order"`
}

// CostSummaryDTO totals every call of the range.
type CostSummaryDTO struct {
	TotalCalls      int64   `json:"total_calls"`
	SuccessfulCalls int64   `json:"successful_calls"`
	FailedCalls     int64   `json:"failed_calls"`
	TotalCostUSD    float64 `json:"total_cost_usd" doc:"Sum of known costs (unknown prices are not counted), 6 decimals"`
	TotalUnitsIn    int64   `json:"total_units_in"`
	TotalUnitsOut   int64   `json:"total_units_out"`
	AvgLatencyMS    float64 `json:"avg_latency_ms" doc:"Average over calls with a latency, 2 decimals"`
}

// CostGroupDTO is the metrics of one group.
type CostGroupDTO struct {
	Group        string  `json:"group"`
	Calls        int64   `json:"calls"`
	CostUSD      float64 `json:"cost_usd"`
	UnitsIn      int64   `json:"units_in"`
	UnitsOut     int64   `json:"units_out"`
	AvgLatencyMS float64 `json:"avg_latency_ms"`
}

func toCostReport(r *course.CostReport) CostReportResponse {
	s := r.Summary
	return CostReportResponse{
		Summary: CostSummaryDTO{
			TotalCalls: s.TotalCalls, SuccessfulCalls: s.SuccessfulCalls, FailedCalls: s.FailedCalls,
			TotalCostUSD: s.TotalCostUSD, TotalUnitsIn: s.TotalUnitsIn, TotalUnitsOut: s.TotalUnitsOut, AvgLatencyMS: s.AvgLatencyMS,
		},
		ByAction: toCostGroups(r.ByAction), ByProvider: toCostGroups(r.ByProvider), ByModel: toCostGroups(r.ByModel),
	}
}

func toCostGroups(gs []course.CostGroup) []CostGroupDTO {
	out := make([]CostGroupDTO, len(gs))
	for i, g := range gs {
		out[i] = CostGroupDTO{Group: g.Group, Calls: g.Calls, CostUSD: g.CostUSD, UnitsIn: g.UnitsIn, UnitsOut: g.UnitsOut, AvgLatencyMS: g.AvgLatencyMS}
	}
	return out
}

package api

import (
	"context"
	"net/http"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// CostReportInput holds the optional RFC 3339 bounds on created_at.
type CostReportInput struct {
	From time.Time `query:"from" doc:"Only calls at or after this time (RFC 3339)"`
	To   time.Time `query:"to" doc:"Only calls before this time (RFC 3339)"`
}

func (s *Server) registerReports() {
	o := op("get-cost-report", http.MethodGet, "/api/v1/reports/cost", "Cost of the tenant's external AI calls", classRead, http.StatusOK)
	o.Tags = []string{"reports"}
	o.Errors = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusTooManyRequests}
	register(s, o, func(ctx context.Context, in *CostReportInput) (*struct{ Body CostReportResponse }, error) {
		var from, to *time.Time
		if !in.From.IsZero() {
			from = &in.From
		}
		if !in.To.IsZero() {
			to = &in.To
		}
		if from != nil && to != nil && !from.Before(*to) {
			return nil, course.Errorf(course.EINVALID, "'from' must be before 'to'")
		}
		r, err := s.deps.Costs.CostReport(ctx, tenantOf(ctx), from, to)
		if err != nil {
			return nil, err
		}
		return &struct{ Body CostReportResponse }{Body: toCostReport(r)}, nil
	})
}

package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

// HealthBody is the /health document.
type HealthBody struct {
	Status    string            `json:"status" enum:"ok,degraded" doc:"ok when every check passed"`
	Checks    map[string]string `json:"checks" doc:"check name → \"ok\" or \"error: <Kind>\""`
	Timestamp string            `json:"timestamp" doc:"RFC 3339, UTC, seconds precision"`
}

type healthOutput struct {
	Status       int
	CacheControl string `header:"Cache-Control"`
	Body         HealthBody
}

type livezOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Status string `json:"status" example:"ok"`
	}
}

func (s *Server) registerHealth() {
	huma.Register(s.api, huma.Operation{
		OperationID: "health",
		Method:      http.MethodGet,
		Path:        "/health",
		Summary:     "Readiness of the service and its dependencies",
		Description: "Runs every dependency check concurrently, each bounded by 5 s. " +
			"200 when all are ok, otherwise 503 with status degraded.",
		Tags:      []string{"health"},
		Responses: map[string]*huma.Response{"503": {Description: "A dependency is failing"}},
	}, s.health)
	huma.Register(s.api, huma.Operation{
		OperationID: "livez",
		Method:      http.MethodGet,
		Path:        "/livez",
		Summary:     "Process liveness",
		Description: "Answers 200 while the process runs; checks no dependency, so a storage outage never restarts the container.",
		Tags:        []string{"health"},
	}, func(context.Context, *struct{}) (*livezOutput, error) {
		out := &livezOutput{CacheControl: "no-store"}
		out.Body.Status = "ok"
		return out, nil
	})
}

func (s *Server) health(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	out := &healthOutput{CacheControl: "no-store", Status: http.StatusOK}
	out.Body = s.RunChecks(ctx)
	if out.Body.Status != "ok" {
		out.Status = http.StatusServiceUnavailable
	}
	return out, nil
}

// RunChecks probes every dependency concurrently, each with its own
// timeout, so one slow dependency cannot hide the state of the others.
func (s *Server) RunChecks(ctx context.Context) HealthBody {
	body := HealthBody{Status: "ok", Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, nc := range s.deps.Checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, s.opts.HealthTimeout)
			defer cancel()
			result := "ok"
			if err := nc.Checker.Check(cctx); err != nil {
				kind := course.HealthOther
				var he *course.HealthError
				if errors.As(err, &he) {
					kind = he.Kind
				}
				if cctx.Err() != nil {
					kind = course.HealthTimeout
				}
				result = "error: " + kind
				s.deps.Log.Warn("health_check_error", "logger", "http", "check", nc.Name, "kind", kind, "error", err)
			}
			mu.Lock()
			defer mu.Unlock()
			body.Checks[nc.Name] = result
			if result != "ok" {
				body.Status = "degraded"
			}
		}()
	}
	wg.Wait()
	body.Timestamp = time.Now().UTC().Format("2006-01-02T15:04:05+00:00")
	return body
}

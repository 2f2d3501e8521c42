package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// JobPath is the {job_id} path parameter.
type JobPath struct {
	JobID string `path:"job_id" format:"uuid" doc:"Job id"`
}

// JobResponse is a job as clients follow it (docs/design/api.md, "Jobs").
type JobResponse struct {
	ID           string     `json:"id" format:"uuid"`
	JobType      string     `json:"job_type" enum:"ingest,generate,reconcile,refine,embed"`
	Priority     string     `json:"priority" enum:"normal,immediate"`
	Status       string     `json:"status" enum:"queued,active,complete,failed,cancelled"`
	TenantID     *string    `json:"tenant_id" nullable:"true"`
	NodeID       *string    `json:"materialnode_id" nullable:"true"`
	MaterialID   *string    `json:"materialentry_id" nullable:"true"`
	QueueJobID   *string    `json:"queue_job_id" nullable:"true" doc:"Queue record id; null while waiting for dependencies"`
	ErrorMessage *string    `json:"error_message" nullable:"true"`
	Attempt      int        `json:"attempt"`
	MaxAttempts  int        `json:"max_attempts"`
	DependsOn    []string   `json:"depends_on"`
	SnapshotID   *string    `json:"snapshot_id" nullable:"true"`
	QueuedAt     time.Time  `json:"queued_at"`
	StartedAt    *time.Time `json:"started_at" nullable:"true"`
	CompletedAt  *time.Time `json:"completed_at" nullable:"true"`
	EstimatedAt  *time.Time `json:"estimated_at" nullable:"true" doc:"When a deferred job is next scheduled to start"`
}

func toJobResponse(rep *course.JobReport) JobResponse {
	j := &rep.Job
	r := JobResponse{
		ID: j.ID.String(), JobType: j.Type, Priority: j.Priority, Status: j.Status,
		TenantID: uuidStr(j.TenantID), NodeID: uuidStr(j.NodeID), MaterialID: uuidStr(j.MaterialID),
		ErrorMessage: j.ErrorMessage, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		DependsOn: make([]string, len(j.DependsOn)), SnapshotID: uuidStr(j.SnapshotID),
		QueuedAt: j.QueuedAt, StartedAt: j.StartedAt, CompletedAt: j.CompletedAt, EstimatedAt: j.EstimatedAt,
	}
	if rep.QueueRef != nil {
		r.QueueJobID = strPtr(strconv.FormatInt(int64(*rep.QueueRef), 10))
	}
	for i, d := range j.DependsOn {
		r.DependsOn[i] = d.String()
	}
	return r
}

func uuidStr(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	return strPtr(id.String())
}

func (s *Server) registerJobs() {
	o := op("get-job", http.MethodGet, "/api/v1/jobs/{job_id}", "Get a job", classRead, http.StatusOK)
	o.Tags = []string{"jobs"}
	register(s, o, func(ctx context.Context, in *JobPath) (*struct{ Body JobResponse }, error) {
		j, err := s.deps.Jobs.GetJob(ctx, tenantOf(ctx), uuid.MustParse(in.JobID))
		if err != nil {
			return nil, err
		}
		return &struct{ Body JobResponse }{Body: toJobResponse(j)}, nil
	})
}

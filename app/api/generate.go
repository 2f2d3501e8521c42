package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

type generateInput struct {
	NodePath
	Body *GenerateRequest `required:"false"`
}

func (in *generateInput) mode() string {
	if in.Body == nil || in.Body.Mode == "" {
		return course.ModeFree
	}
	return in.Body.Mode
}

type planOutput struct{ Body GenerationPlanResponse }

func (s *Server) registerGeneration() {
	gen := op("generate-node", http.MethodPost, "/api/v1/nodes/{id}/generate", "Generate the structure of a node's subtree",
		classWrite, http.StatusAccepted)
	gen.Tags = []string{"generation"}
	gen.Description = "Plans generate jobs bottom-up (after the ingestion of pending and raw materials) and " +
		"reconcile jobs top-down. 409 when an unfinished generation of the same tree overlaps the scope."
	gen.Errors = append(gen.Errors, http.StatusConflict)
	register(s, gen, func(ctx context.Context, in *generateInput) (*planOutput, error) {
		p, err := s.deps.Generation.Generate(ctx, tenantOf(ctx), nodeID(in.ID), in.mode())
		return planResult(p, err)
	})
	ref := op("refine-node", http.MethodPost, "/api/v1/nodes/{id}/refine", "Refine one node and reconcile its ancestors",
		classWrite, http.StatusAccepted)
	ref.Tags = []string{"generation"}
	ref.Errors = append(ref.Errors, http.StatusConflict)
	register(s, ref, func(ctx context.Context, in *generateInput) (*planOutput, error) {
		p, err := s.deps.Generation.Refine(ctx, tenantOf(ctx), nodeID(in.ID), in.mode())
		return planResult(p, err)
	})
}

func planResult(p *course.GenerationPlan, err error) (*planOutput, error) {
	if err != nil {
		return nil, err
	}
	return &planOutput{Body: toPlanResponse(p)}, nil
}

type structureInput struct {
	NodePath
	Mode string `query:"mode" enum:"free,guided" doc:"Only snapshots of this mode"`
}

type historyInput struct {
	ID     string `path:"id" format:"uuid" doc:"Node id"`
	Limit  int    `query:"limit" default:"20" minimum:"1" maximum:"100"`
	Offset int    `query:"offset" default:"0" minimum:"0" maximum:"2147483647"`
}

type snapshotInput struct {
	NodePath
	SID string `path:"sid" format:"uuid" doc:"Snapshot id"`
}

type snapshotOutput struct{ Body SnapshotDetailResponse }

func (s *Server) registerStructure() {
	latest := op("get-node-structure", http.MethodGet, "/api/v1/nodes/{id}/structure", "Latest structure snapshot of a node",
		classRead, http.StatusOK)
	latest.Tags = []string{"generation"}
	register(s, latest, func(ctx context.Context, in *structureInput) (*snapshotOutput, error) {
		snap, err := s.deps.Structures.LatestSnapshot(ctx, tenantOf(ctx), nodeID(in.ID), in.Mode)
		return snapshotResult(snap, err)
	})
	hist := op("list-node-structure-history", http.MethodGet, "/api/v1/nodes/{id}/structure/history",
		"Structure snapshots of a node, newest first", classRead, http.StatusOK)
	hist.Tags = []string{"generation"}
	register(s, hist, func(ctx context.Context, in *historyInput) (*struct{ Body SnapshotPage }, error) {
		snaps, total, err := s.deps.Structures.SnapshotHistory(ctx, tenantOf(ctx), nodeID(in.ID), in.Limit, in.Offset)
		if err != nil {
			return nil, err
		}
		page := SnapshotPage{Items: make([]SnapshotSummaryResponse, len(snaps)), Total: total, Limit: in.Limit, Offset: in.Offset}
		for i, sn := range snaps {
			page.Items[i] = toSnapshotSummary(sn)
		}
		return &struct{ Body SnapshotPage }{Body: page}, nil
	})
	one := op("get-node-snapshot", http.MethodGet, "/api/v1/nodes/{id}/structure/snapshots/{sid}", "One structure snapshot",
		classRead, http.StatusOK)
	one.Tags = []string{"generation"}
	register(s, one, func(ctx context.Context, in *snapshotInput) (*snapshotOutput, error) {
		snap, err := s.deps.Structures.GetSnapshot(ctx, tenantOf(ctx), nodeID(in.ID), uuid.MustParse(in.SID))
		return snapshotResult(snap, err)
	})
}

func snapshotResult(snap *course.Snapshot, err error) (*snapshotOutput, error) {
	if err != nil {
		return nil, err
	}
	return &snapshotOutput{Body: toSnapshotDetail(snap)}, nil
}

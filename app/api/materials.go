package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// MaterialPath is the {mid} path parameter of material routes.
type MaterialPath struct {
	MID string `path:"mid" format:"uuid" doc:"Material id"`
}

type materialCreatedOutput struct{ Body MaterialEntryCreateResponse }

func matOp(id, method, path, summary, class string, status int) huma.Operation {
	o := op(id, method, path, summary, class, status)
	o.Tags = []string{"materials"}
	return o
}

func (s *Server) registerMaterials() {
	register(s, matOp("list-node-materials", http.MethodGet, "/api/v1/nodes/{id}/materials", "List a node's materials", classRead, http.StatusOK),
		func(ctx context.Context, in *NodePath) (*struct{ Body []MaterialEntryResponse }, error) {
			ms, err := s.deps.Materials.ListMaterials(ctx, tenantOf(ctx), nodeID(in.ID))
			if err != nil {
				return nil, err
			}
			out := &struct{ Body []MaterialEntryResponse }{Body: []MaterialEntryResponse{}}
			for _, m := range ms {
				out.Body = append(out.Body, toMaterialResponse(m))
			}
			return out, nil
		})
	register(s, matOp("get-material", http.MethodGet, "/api/v1/materials/{mid}", "Get a material", classRead, http.StatusOK),
		func(ctx context.Context, in *MaterialPath) (*struct{ Body MaterialEntryResponse }, error) {
			m, err := s.deps.Materials.GetMaterial(ctx, tenantOf(ctx), uuid.MustParse(in.MID))
			if err != nil {
				return nil, err
			}
			return &struct{ Body MaterialEntryResponse }{Body: toMaterialResponse(m)}, nil
		})
	register(s, matOp("delete-material", http.MethodDelete, "/api/v1/materials/{mid}", "Delete a material (its object is removed in the background)", classWrite, http.StatusNoContent),
		func(ctx context.Context, in *MaterialPath) (*struct{}, error) {
			return nil, s.deps.Materials.DeleteMaterial(ctx, tenantOf(ctx), uuid.MustParse(in.MID))
		})
	register(s, matOp("retry-material", http.MethodPost, "/api/v1/materials/{mid}/retry", "Retry ingestion of a failed material", classWrite, http.StatusOK),
		func(ctx context.Context, in *MaterialPath) (*materialCreatedOutput, error) {
			m, err := s.deps.Materials.RetryMaterial(ctx, tenantOf(ctx), uuid.MustParse(in.MID))
			if err != nil {
				return nil, err
			}
			return &materialCreatedOutput{Body: toMaterialCreated(m, nil)}, nil
		})
	s.registerPresign()
	s.registerUpload()
	s.registerStorage()
}

func (s *Server) registerPresign() {
	register(s, matOp("create-upload-url", http.MethodPost, "/api/v1/nodes/{id}/materials/upload-url", "Get a presigned PUT URL for a file", classWrite, http.StatusOK),
		func(ctx context.Context, in *struct {
			NodePath
			Body PresignedURLRequest
		}) (*struct{ Body PresignedURLResponse }, error) {
			req := course.PresignRequest{Filename: in.Body.Filename, ContentType: in.Body.ContentType,
				SourceType: course.SourceType(in.Body.SourceType), Size: in.Body.SizeBytes}
			p, err := s.deps.Intake.Presign(ctx, tenantOf(ctx), nodeID(in.ID), req)
			if err != nil {
				return nil, err
			}
			return &struct{ Body PresignedURLResponse }{Body: PresignedURLResponse{
				UploadURL: p.URL, Key: p.Key, ExpiresIn: int(p.Expires.Seconds()), Method: http.MethodPut, Headers: p.Headers,
			}}, nil
		})
	register(s, matOp("confirm-upload", http.MethodPost, "/api/v1/nodes/{id}/materials/confirm-upload", "Turn a presigned upload into a material", classWrite, http.StatusCreated),
		func(ctx context.Context, in *struct {
			NodePath
			Body ConfirmUploadRequest
		}) (*materialCreatedOutput, error) {
			m, err := s.deps.Intake.Confirm(ctx, tenantOf(ctx), nodeID(in.ID), course.ConfirmRequest{
				Key: in.Body.Key, SourceType: course.SourceType(in.Body.SourceType), Filename: in.Body.Filename,
			})
			if err != nil {
				return nil, err
			}
			return &materialCreatedOutput{Body: toMaterialCreated(m, nil)}, nil
		})
}

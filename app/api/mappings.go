package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// MappingPath is the {mapping_id} path parameter.
type MappingPath struct {
	MappingID string `path:"mapping_id" format:"uuid" doc:"Mapping id"`
}

// mapOutput is a batch answer; its status depends on the batch (201, 207
// or 422), and its body is the same shape for all three.
type mapOutput struct {
	Status int
	Body   SlideVideoMapResponse
}

// statusOfBatch is the status table of docs/design/mappings.md, "Status".
// A 422 here is a business answer with the batch body, not an error: the
// one error map still renders every error (unknown node, bad shape).
var statusOfBatch = map[course.BatchOutcome]int{
	course.BatchAccepted: http.StatusCreated,
	course.BatchPartial:  http.StatusMultiStatus,
	course.BatchRejected: http.StatusUnprocessableEntity,
}

func (s *Server) registerMappings() {
	register(s, s.createMappingsOp(),
		func(ctx context.Context, in *struct {
			NodePath
			Body SlideVideoMapRequest
		}) (*mapOutput, error) {
			b, err := s.deps.Mappings.CreateMappings(ctx, tenantOf(ctx), nodeID(in.ID), toMappingEntries(in.Body.Mappings))
			if err != nil {
				return nil, err
			}
			return &mapOutput{Status: statusOfBatch[b.Outcome()], Body: toMapResponse(b)}, nil
		})
	list := op("list-slide-mappings", http.MethodGet, "/api/v1/nodes/{id}/slide-mapping",
		"List a node's slide–video mappings with their validation state", classRead, http.StatusOK)
	list.Tags = []string{"slide mappings"}
	register(s, list, func(ctx context.Context, in *NodePath) (*struct{ Body SlideVideoMapList }, error) {
		ms, err := s.deps.Mappings.ListMappings(ctx, tenantOf(ctx), nodeID(in.ID))
		if err != nil {
			return nil, err
		}
		out := &struct{ Body SlideVideoMapList }{Body: SlideVideoMapList{Items: []SlideVideoMapItemResponse{}, Total: len(ms)}}
		for _, m := range ms {
			out.Body.Items = append(out.Body.Items, toMappingItem(m))
		}
		return out, nil
	})
	del := op("delete-slide-mapping", http.MethodDelete, "/api/v1/slide-mapping/{mapping_id}",
		"Delete a slide–video mapping", classWrite, http.StatusNoContent)
	del.Tags = []string{"slide mappings"}
	register(s, del, func(ctx context.Context, in *MappingPath) (*struct{}, error) {
		return nil, s.deps.Mappings.DeleteMapping(ctx, tenantOf(ctx), uuid.MustParse(in.MappingID))
	})
}

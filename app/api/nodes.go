package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// NodePath is the {id} path parameter of node routes.
type NodePath struct {
	ID string `path:"id" format:"uuid" doc:"Node id"`
}

type nodeOutput struct{ Body NodeResponse }

type pageInput struct {
	Limit int `query:"limit" default:"20" minimum:"1" maximum:"100"`
	// No maximum: an offset past the end is an empty page.
	Offset int `query:"offset" default:"0" minimum:"0"`
}

// op builds an authenticated operation of the given class.
func op(id, method, path, summary, class string, status int) huma.Operation {
	o := huma.Operation{
		OperationID:   id,
		Method:        method,
		Path:          path,
		Summary:       summary,
		Tags:          []string{"nodes"},
		DefaultStatus: status,
		Metadata:      map[string]any{"class": class},
		Security:      []map[string][]string{{"ApiKeyAuth": {}}},
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}
	return o
}

// tenantOf returns the caller's tenant; the auth middleware guarantees it.
func tenantOf(ctx context.Context) uuid.UUID { return principal(ctx).TenantID }

// nodeID parses a path id that huma has already validated as a UUID.
func nodeID(s string) uuid.UUID { return uuid.MustParse(s) }

func (s *Server) registerNodes() {
	const base = "/api/v1/nodes"
	register(s, op("create-root-node", http.MethodPost, base, "Create a root node (a course)", classWrite, http.StatusCreated),
		func(ctx context.Context, in *struct{ Body NodeCreateRequest }) (*nodeOutput, error) {
			n, err := s.deps.Nodes.CreateNode(ctx, tenantOf(ctx), nil, in.Body.Title, in.Body.Description)
			return nodeResult(n, err)
		})
	register(s, op("list-root-nodes", http.MethodGet, base, "List root nodes, newest first", classRead, http.StatusOK),
		func(ctx context.Context, in *pageInput) (*struct{ Body NodePage }, error) {
			nodes, total, err := s.deps.Nodes.ListRoots(ctx, tenantOf(ctx), in.Limit, in.Offset)
			if err != nil {
				return nil, err
			}
			out := &struct{ Body NodePage }{Body: NodePage{Items: []NodeResponse{}, Total: total, Limit: in.Limit, Offset: in.Offset}}
			for _, n := range nodes {
				out.Body.Items = append(out.Body.Items, toNodeResponse(n))
			}
			return out, nil
		})
	register(s, op("create-child-node", http.MethodPost, base+"/{id}/children", "Create a child node", classWrite, http.StatusCreated),
		func(ctx context.Context, in *struct {
			NodePath
			Body NodeCreateRequest
		}) (*nodeOutput, error) {
			parent := nodeID(in.ID)
			n, err := s.deps.Nodes.CreateNode(ctx, tenantOf(ctx), &parent, in.Body.Title, in.Body.Description)
			return nodeResult(n, err)
		})
	register(s, op("get-node-tree", http.MethodGet, base+"/{id}/tree", "A node with its whole subtree", classRead, http.StatusOK),
		func(ctx context.Context, in *NodePath) (*struct{ Body nodeTrees }, error) {
			n, err := s.deps.Nodes.Tree(ctx, tenantOf(ctx), nodeID(in.ID))
			if err != nil {
				return nil, err
			}
			return &struct{ Body nodeTrees }{Body: nodeTrees{n}}, nil
		})
	register(s, op("get-node-detail", http.MethodGet, base+"/{id}/detail", "A subtree with the materials of every node", classRead, http.StatusOK),
		func(ctx context.Context, in *NodePath) (*struct{ Body []NodeWithMaterialsResponse }, error) {
			n, err := s.deps.Nodes.Tree(ctx, tenantOf(ctx), nodeID(in.ID))
			if err != nil {
				return nil, err
			}
			ids := subtreeIDs(n, nil)
			mats, err := s.deps.Materials.MaterialsOf(ctx, tenantOf(ctx), ids)
			if err != nil {
				return nil, err
			}
			warns, err := s.deps.Mappings.MappingWarnings(ctx, tenantOf(ctx), ids)
			if err != nil {
				return nil, err
			}
			return &struct{ Body []NodeWithMaterialsResponse }{Body: []NodeWithMaterialsResponse{toNodeDetail(n, mats, warns)}}, nil
		})
	register(s, op("get-node", http.MethodGet, base+"/{id}", "Get a node", classRead, http.StatusOK),
		func(ctx context.Context, in *NodePath) (*nodeOutput, error) {
			n, err := s.deps.Nodes.GetNode(ctx, tenantOf(ctx), nodeID(in.ID))
			return nodeResult(n, err)
		})
	s.registerNodeWrites(base)
}

func (s *Server) registerNodeWrites(base string) {
	register(s, op("update-node", http.MethodPatch, base+"/{id}", "Update title or description", classWrite, http.StatusOK),
		func(ctx context.Context, in *struct {
			NodePath
			Body NodeUpdateRequest
		}) (*nodeOutput, error) {
			var upd course.NodeUpdate
			if t := in.Body.Title; t.Set && !t.Null {
				upd.Title = &t.Value
			}
			if d := in.Body.Description; d.Set {
				if d.Null {
					upd.ClearDescription = true
				} else {
					upd.Description = &d.Value
				}
			}
			n, err := s.deps.Nodes.UpdateNode(ctx, tenantOf(ctx), nodeID(in.ID), upd)
			return nodeResult(n, err)
		})
	register(s, op("move-node", http.MethodPost, base+"/{id}/move", "Move a node under another parent, or make it a root", classWrite, http.StatusOK),
		func(ctx context.Context, in *struct {
			NodePath
			Body NodeMoveRequest
		}) (*nodeOutput, error) {
			var parent *uuid.UUID
			if in.Body.ParentID != nil {
				p := nodeID(*in.Body.ParentID)
				parent = &p
			}
			n, err := s.deps.Nodes.MoveNode(ctx, tenantOf(ctx), nodeID(in.ID), parent)
			return nodeResult(n, err)
		})
	register(s, op("reorder-node", http.MethodPost, base+"/{id}/reorder", "Move a node among its siblings", classWrite, http.StatusOK),
		func(ctx context.Context, in *struct {
			NodePath
			Body NodeReorderRequest
		}) (*nodeOutput, error) {
			n, err := s.deps.Nodes.ReorderNode(ctx, tenantOf(ctx), nodeID(in.ID), in.Body.Order)
			return nodeResult(n, err)
		})
	register(s, op("delete-node", http.MethodDelete, base+"/{id}", "Delete a node and its subtree", classWrite, http.StatusNoContent),
		func(ctx context.Context, in *NodePath) (*struct{}, error) {
			if err := s.deps.Nodes.DeleteNode(ctx, tenantOf(ctx), nodeID(in.ID)); err != nil {
				return nil, err
			}
			return nil, nil
		})
}

// subtreeIDs collects the ids of n and all its descendants.
func subtreeIDs(n *course.Node, ids []uuid.UUID) []uuid.UUID {
	ids = append(ids, n.ID)
	for _, c := range n.Children {
		ids = subtreeIDs(c, ids)
	}
	return ids
}

func nodeResult(n *course.Node, err error) (*nodeOutput, error) {
	if err != nil {
		return nil, err
	}
	return &nodeOutput{Body: toNodeResponse(n)}, nil
}

package api

import (
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

// nodeTrees is the body of get-node-tree: the domain nodes themselves,
// written as []NodeTreeResponse by appendJSON. The tree is the most read
// response; building the DTO copy and walking it by reflection was most
// of the app's CPU per request (docs/performance.md).
type nodeTrees []*course.Node

// Schema documents the body exactly as []NodeTreeResponse, so the OpenAPI
// document does not depend on how the body is written.
func (nodeTrees) Schema(r huma.Registry) *huma.Schema {
	return r.Schema(reflect.TypeFor[[]NodeTreeResponse](), true, "")
}

// MarshalJSON serves any encoding/json user; responses go through
// appendJSON (jsonFormat) without encoding/json's re-compaction.
func (t nodeTrees) MarshalJSON() ([]byte, error) { return t.appendJSON(nil), nil }

func (t nodeTrees) appendJSON(dst []byte) []byte {
	if t == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, n := range t {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendNodeTree(dst, n)
	}
	return append(dst, ']')
}

// appendNodeTree appends n and its subtree as NodeTreeResponse's JSON:
// the same keys in the same order (node_dto.go).
func appendNodeTree(dst []byte, n *course.Node) []byte {
	dst = appendNodeFields(dst, n)
	dst = append(dst, `,"children":[`...)
	for i, c := range n.Children {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendNodeTree(dst, c)
	}
	return append(dst, "]}"...)
}

// appendNodeFields appends NodeResponse's JSON without its closing brace.
func appendNodeFields(dst []byte, n *course.Node) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONUUID(dst, n.ID)
	dst = append(dst, `,"tenant_id":`...)
	dst = appendJSONUUID(dst, n.TenantID)
	dst = append(dst, `,"parent_materialnode_id":`...)
	dst = appendJSONUUIDPtr(dst, n.ParentID)
	dst = append(dst, `,"title":`...)
	dst = appendJSONString(dst, n.Title)
	dst = append(dst, `,"description":`...)
	dst = appendJSONStringPtr(dst, n.Description)
	dst = append(dst, `,"learning_goal":`...)
	dst = appendJSONStringPtr(dst, n.LearningGoal)
	dst = append(dst, `,"expected_knowledge":`...)
	dst = appendJSONStrings(dst, n.ExpectedKnowledge)
	dst = append(dst, `,"expected_skills":`...)
	dst = appendJSONStrings(dst, n.ExpectedSkills)
	dst = append(dst, `,"order":`...)
	dst = appendJSONInt(dst, n.Order)
	dst = append(dst, `,"node_fingerprint":`...)
	dst = appendJSONStringPtr(dst, n.Fingerprint)
	dst = append(dst, `,"created_at":`...)
	dst = appendJSONTimestamp(dst, n.CreatedAt)
	dst = append(dst, `,"updated_at":`...)
	return appendJSONTimestamp(dst, n.UpdatedAt)
}

package api

import (
	"encoding/json"

	"github.com/google/uuid"

	"github.com/danielgtaylor/huma/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

// NodeResponse is a material node as the API shows it.
type NodeResponse struct {
	ID                string    `json:"id" format:"uuid"`
	TenantID          string    `json:"tenant_id" format:"uuid"`
	ParentID          *string   `json:"parent_materialnode_id" format:"uuid" nullable:"true"`
	Title             string    `json:"title"`
	Description       *string   `json:"description" nullable:"true"`
	LearningGoal      *string   `json:"learning_goal" nullable:"true"`
	ExpectedKnowledge []string  `json:"expected_knowledge" nullable:"true"`
	ExpectedSkills    []string  `json:"expected_skills" nullable:"true"`
	Order             int       `json:"order"`
	NodeFingerprint   *string   `json:"node_fingerprint" nullable:"true"`
	CreatedAt         Timestamp `json:"created_at"`
	UpdatedAt         Timestamp `json:"updated_at"`
}

// NodeTreeResponse is a node with its subtree. It documents the body of
// get-node-tree, which node_tree.go writes without building it.
type NodeTreeResponse struct {
	NodeResponse
	Children []NodeTreeResponse `json:"children"`
}

// MaterialEntrySummary is a material as listed inside a node detail.
type MaterialEntrySummary struct {
	ID           string     `json:"id" format:"uuid"`
	SourceType   SourceType `json:"source_type"`
	SourceURL    string     `json:"source_url"`
	Filename     *string    `json:"filename" nullable:"true"`
	Order        int        `json:"order"`
	State        string     `json:"state" enum:"error,pending,raw,integrity_broken,ready"`
	ErrorMessage *string    `json:"error_message" nullable:"true"`
	CreatedAt    Timestamp  `json:"created_at"`
}

// NodeWithMaterialsResponse is a node, its materials and its subtree.
type NodeWithMaterialsResponse struct {
	ID                string                      `json:"id" format:"uuid"`
	Title             string                      `json:"title"`
	Description       *string                     `json:"description" nullable:"true"`
	LearningGoal      *string                     `json:"learning_goal" nullable:"true"`
	ExpectedKnowledge []string                    `json:"expected_knowledge" nullable:"true"`
	ExpectedSkills    []string                    `json:"expected_skills" nullable:"true"`
	Order             int                         `json:"order"`
	NodeFingerprint   *string                     `json:"node_fingerprint" nullable:"true"`
	Materials         []MaterialEntrySummary      `json:"materials"`
	MappingWarnings   []MappingWarningResponse    `json:"mapping_warnings" doc:"Slide–video mappings of this node that are pending validation or failed it"`
	Children          []NodeWithMaterialsResponse `json:"children"`
	CreatedAt         Timestamp                   `json:"created_at"`
	UpdatedAt         Timestamp                   `json:"updated_at"`
}

// NodePage is a page of root nodes.
type NodePage struct {
	Items  []NodeResponse `json:"items"`
	Total  int            `json:"total"`
	Limit  int            `json:"limit"`
	Offset int            `json:"offset"`
}

// NodeCreateRequest creates a root or a child node.
type NodeCreateRequest struct {
	_           struct{} `additionalProperties:"true"`
	Title       string   `json:"title" minLength:"1" maxLength:"500"`
	Description *string  `json:"description,omitempty" maxLength:"5000" nullable:"true"`
}

// NodeUpdateRequest is presence-sensitive: an absent key is unchanged,
// description null clears it, title null is ignored.
type NodeUpdateRequest struct {
	_           struct{}      `additionalProperties:"true"`
	Title       optionalTitle `json:"title,omitempty"`
	Description optionalDesc  `json:"description,omitempty"`
}

// NodeMoveRequest re-parents a node; null makes it a root.
type NodeMoveRequest struct {
	_        struct{} `additionalProperties:"true"`
	ParentID *string  `json:"parent_materialnode_id" required:"true" nullable:"true" format:"uuid"`
}

// NodeReorderRequest moves a node among its siblings.
type NodeReorderRequest struct {
	_     struct{} `additionalProperties:"true"`
	Order int      `json:"order" minimum:"0" maximum:"2147483647"`
}

// optional records whether a JSON key was present and whether it was null.
type optional struct {
	Set   bool
	Null  bool
	Value string
}

func (o *optional) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

type optionalTitle struct{ optional }

// Schema: a nullable string of 1..500 characters.
func (optionalTitle) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Nullable: true, MinLength: intPtr(1), MaxLength: intPtr(course.MaxTitleLen)}
}

type optionalDesc struct{ optional }

// Schema: a nullable string of at most 5000 characters.
func (optionalDesc) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Nullable: true, MaxLength: intPtr(course.MaxDescriptionLen)}
}

func intPtr(n int) *int { return &n }

func strPtr(s string) *string { return &s }

func toNodeResponse(n *course.Node) NodeResponse {
	r := NodeResponse{
		ID: n.ID.String(), TenantID: n.TenantID.String(), Title: n.Title,
		Description: n.Description, LearningGoal: n.LearningGoal,
		ExpectedKnowledge: n.ExpectedKnowledge, ExpectedSkills: n.ExpectedSkills,
		Order: n.Order, NodeFingerprint: n.Fingerprint,
		CreatedAt: Timestamp(n.CreatedAt), UpdatedAt: Timestamp(n.UpdatedAt),
	}
	if n.ParentID != nil {
		r.ParentID = strPtr(n.ParentID.String())
	}
	return r
}

func toNodeDetail(n *course.Node, mats map[uuid.UUID][]*course.Material, warns map[uuid.UUID][]course.MappingWarning) NodeWithMaterialsResponse {
	d := NodeWithMaterialsResponse{
		ID: n.ID.String(), Title: n.Title, Description: n.Description, LearningGoal: n.LearningGoal,
		ExpectedKnowledge: n.ExpectedKnowledge, ExpectedSkills: n.ExpectedSkills, Order: n.Order,
		NodeFingerprint: n.Fingerprint, Materials: []MaterialEntrySummary{}, Children: []NodeWithMaterialsResponse{},
		CreatedAt: Timestamp(n.CreatedAt), UpdatedAt: Timestamp(n.UpdatedAt),
		MappingWarnings: toMappingWarnings(warns[n.ID]),
	}
	for _, m := range mats[n.ID] {
		d.Materials = append(d.Materials, toMaterialSummary(m))
	}
	for _, c := range n.Children {
		d.Children = append(d.Children, toNodeDetail(c, mats, warns))
	}
	return d
}

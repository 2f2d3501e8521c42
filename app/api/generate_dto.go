package api

import (
	"encoding/json"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// GenerateRequest starts a generation or a refinement; an empty body
// means mode free.
type GenerateRequest struct {
	Mode string `json:"mode,omitempty" enum:"free,guided" default:"free" doc:"free: the model decides the outline; guided: it follows the material tree"`
}

// GenerationPlanResponse is the plan a generate or refine request
// scheduled (docs/design/generation.md, "Plan").
type GenerationPlanResponse struct {
	GenerationJobs     []JobResponse            `json:"generation_jobs" doc:"Generate jobs in post-order (refine: the refine job)"`
	ReconciliationJobs []JobResponse            `json:"reconciliation_jobs" doc:"Reconcile jobs in pre-order (refine: the ancestors bottom-up)"`
	IngestionJobs      []JobResponse            `json:"ingestion_jobs" doc:"New and in-flight ingest jobs the plan waits for"`
	EstimatedLLMCalls  int                      `json:"estimated_llm_calls"`
	MappingWarnings    []MappingWarningResponse `json:"mapping_warnings"`
}

func toPlanResponse(p *course.GenerationPlan) GenerationPlanResponse {
	jobsOf := func(in []*course.JobReport) []JobResponse {
		out := make([]JobResponse, len(in))
		for i, j := range in {
			out[i] = toJobResponse(j)
		}
		return out
	}
	r := GenerationPlanResponse{GenerationJobs: jobsOf(p.Generation), ReconciliationJobs: jobsOf(p.Reconciliation),
		IngestionJobs: jobsOf(p.Ingestion), EstimatedLLMCalls: p.EstimatedLLMCalls,
		MappingWarnings: toMappingWarnings(p.MappingWarnings)}
	return r
}

// ServiceCallResponse is the audited model call behind a snapshot.
type ServiceCallResponse struct {
	ID        string   `json:"id" format:"uuid"`
	Provider  string   `json:"provider"`
	ModelID   string   `json:"model_id"`
	PromptRef *string  `json:"prompt_ref" nullable:"true"`
	UnitIn    *int64   `json:"unit_in" nullable:"true"`
	UnitOut   *int64   `json:"unit_out" nullable:"true"`
	CostUSD   *float64 `json:"cost_usd" nullable:"true"`
}

// CorrectionResponse is one change a reconcile step reported.
type CorrectionResponse struct {
	TargetNodeID string `json:"target_node_id"`
	Field        string `json:"field"`
	Action       string `json:"action"`
	OldValue     string `json:"old_value"`
	NewValue     string `json:"new_value"`
	Reason       string `json:"reason"`
}

// SnapshotSummaryResponse is a snapshot without its structure.
type SnapshotSummaryResponse struct {
	ID                string               `json:"id" format:"uuid"`
	NodeID            string               `json:"materialnode_id" format:"uuid"`
	Mode              string               `json:"mode" enum:"free,guided"`
	StepType          string               `json:"step_type" enum:"generate,reconcile,refine"`
	NodeFingerprint   string               `json:"node_fingerprint"`
	Summary           *string              `json:"summary" nullable:"true"`
	CoreConcepts      []string             `json:"core_concepts" nullable:"true"`
	MentionedConcepts []string             `json:"mentioned_concepts" nullable:"true"`
	Corrections       []CorrectionResponse `json:"corrections" nullable:"true"`
	JobID             *string              `json:"job_id" nullable:"true"`
	CallID            *string              `json:"externalservicecall_id" nullable:"true"`
	ServiceCall       *ServiceCallResponse `json:"service_call" doc:"The audited model call (null when the snapshot was stored without one)"`
	CreatedAt         time.Time            `json:"created_at"`
}

// SnapshotDetailResponse is a snapshot with its raw structure and the
// flattened outline.
type SnapshotDetailResponse struct {
	SnapshotSummaryResponse
	Structure     map[string]any          `json:"structure" doc:"The CourseStructure as the model returned it"`
	StructureTree []StructureNodeResponse `json:"structure_tree" doc:"Modules at the top, children by order"`
}

// SnapshotPage is a page of a node's snapshots, newest first.
type SnapshotPage struct {
	Items  []SnapshotSummaryResponse `json:"items"`
	Total  int                       `json:"total"`
	Limit  int                       `json:"limit"`
	Offset int                       `json:"offset"`
}

// StructureNodeResponse is one element of a flattened structure.
type StructureNodeResponse struct {
	ID                 string                  `json:"id" format:"uuid"`
	NodeType           string                  `json:"node_type" enum:"module,lesson,concept,exercise"`
	Order              int                     `json:"order"`
	Title              string                  `json:"title"`
	Description        *string                 `json:"description" nullable:"true"`
	LearningGoal       *string                 `json:"learning_goal" nullable:"true"`
	ExpectedKnowledge  any                     `json:"expected_knowledge" nullable:"true"`
	ExpectedSkills     any                     `json:"expected_skills" nullable:"true"`
	Prerequisites      any                     `json:"prerequisites" nullable:"true"`
	Difficulty         *string                 `json:"difficulty" nullable:"true"`
	EstimatedDuration  *int                    `json:"estimated_duration" nullable:"true"`
	SuccessCriteria    *string                 `json:"success_criteria" nullable:"true"`
	AssessmentMethod   *string                 `json:"assessment_method" nullable:"true"`
	Competencies       any                     `json:"competencies" nullable:"true"`
	KeyConcepts        any                     `json:"key_concepts" nullable:"true"`
	CommonMistakes     any                     `json:"common_mistakes" nullable:"true"`
	TeachingStrategy   *string                 `json:"teaching_strategy" nullable:"true"`
	Activities         any                     `json:"activities" nullable:"true"`
	TeachingStyle      *string                 `json:"teaching_style" nullable:"true"`
	DeepDiveReferences any                     `json:"deep_dive_references" nullable:"true"`
	Timecodes          any                     `json:"timecodes" nullable:"true"`
	SlideReferences    any                     `json:"slide_references" nullable:"true"`
	WebReferences      any                     `json:"web_references" nullable:"true"`
	Children           []StructureNodeResponse `json:"children"`
}

func toSnapshotSummary(s *course.Snapshot) SnapshotSummaryResponse {
	r := SnapshotSummaryResponse{ID: s.ID.String(), NodeID: s.NodeID.String(), Mode: s.Mode, StepType: s.StepType,
		NodeFingerprint: s.Fingerprint, Summary: s.Summary, CoreConcepts: s.CoreConcepts,
		MentionedConcepts: s.MentionedConcepts, JobID: uuidStr(s.JobID), CallID: uuidStr(s.CallID), CreatedAt: s.CreatedAt}
	if s.Corrections != nil {
		r.Corrections = make([]CorrectionResponse, len(s.Corrections))
		for i, c := range s.Corrections {
			r.Corrections[i] = CorrectionResponse(c)
		}
	}
	if c := s.Call; c != nil {
		r.ServiceCall = &ServiceCallResponse{ID: c.ID.String(), Provider: c.Provider, ModelID: c.ModelID,
			PromptRef: c.PromptRef, UnitIn: c.UnitIn, UnitOut: c.UnitOut, CostUSD: c.CostUSD}
	}
	return r
}

func toSnapshotDetail(s *course.Snapshot) SnapshotDetailResponse {
	r := SnapshotDetailResponse{SnapshotSummaryResponse: toSnapshotSummary(s), StructureTree: toStructureNodes(s.Tree)}
	_ = json.Unmarshal(s.Structure, &r.Structure)
	return r
}

func toStructureNodes(in []*course.StructureNode) []StructureNodeResponse {
	out := make([]StructureNodeResponse, len(in))
	for i, n := range in {
		out[i] = StructureNodeResponse{ID: n.ID.String(), NodeType: n.NodeType, Order: n.Order, Title: n.Title,
			Description: n.Description, LearningGoal: n.LearningGoal, ExpectedKnowledge: anyJSON(n.ExpectedKnowledge),
			ExpectedSkills: anyJSON(n.ExpectedSkills), Prerequisites: anyJSON(n.Prerequisites),
			Difficulty: n.Difficulty, EstimatedDuration: n.EstimatedDuration, SuccessCriteria: n.SuccessCriteria,
			AssessmentMethod: n.AssessmentMethod, Competencies: anyJSON(n.Competencies), KeyConcepts: anyJSON(n.KeyConcepts),
			CommonMistakes: anyJSON(n.CommonMistakes), TeachingStrategy: n.TeachingStrategy,
			Activities: anyJSON(n.Activities), TeachingStyle: n.TeachingStyle,
			DeepDiveReferences: anyJSON(n.DeepDiveReferences), Timecodes: anyJSON(n.Timecodes),
			SlideReferences: anyJSON(n.SlideReferences), WebReferences: anyJSON(n.WebReferences),
			Children: toStructureNodes(n.Children)}
	}
	return out
}

// anyJSON decodes a stored JSON value for the response; empty is null.
func anyJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v
}

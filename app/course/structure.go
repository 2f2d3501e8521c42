package course

import "encoding/json"

// Structure is the CourseStructure outline a structuring model returns
// (docs/design/llm.md, "CourseStructure"). The JSON schema the router
// validates replies against lives with the prompts (app/llm); these
// types are the shape code reads and writes.
type Structure struct {
	Title             string       `json:"title"`
	Description       string       `json:"description,omitempty"`
	LearningGoal      string       `json:"learning_goal,omitempty"`
	ExpectedKnowledge []string     `json:"expected_knowledge,omitempty"`
	ExpectedSkills    []string     `json:"expected_skills,omitempty"`
	Modules           []Module     `json:"modules"`
	Summary           string       `json:"summary"`
	CoreConcepts      []string     `json:"core_concepts"`
	MentionedConcepts []string     `json:"mentioned_concepts"`
	Corrections       []Correction `json:"corrections,omitempty"`
}

// Module is a top-level part of a course.
type Module struct {
	Title             string   `json:"title"`
	Description       string   `json:"description,omitempty"`
	LearningGoal      string   `json:"learning_goal,omitempty"`
	ExpectedKnowledge []string `json:"expected_knowledge,omitempty"`
	ExpectedSkills    []string `json:"expected_skills,omitempty"`
	Difficulty        string   `json:"difficulty,omitempty"` // easy | medium | hard
	Lessons           []Lesson `json:"lessons,omitempty"`
}

// Lesson is one lesson of a module; timecodes are MM:SS or HH:MM:SS.
type Lesson struct {
	Title              string      `json:"title"`
	VideoStartTimecode string      `json:"video_start_timecode,omitempty"`
	VideoEndTimecode   string      `json:"video_end_timecode,omitempty"`
	SlideRange         *SlideRange `json:"slide_range,omitempty"`
	Concepts           []Concept   `json:"concepts,omitempty"`
	Exercises          []Exercise  `json:"exercises,omitempty"`
}

// SlideRange is an inclusive range of 1-based slide numbers.
type SlideRange struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Concept is one idea a lesson teaches.
type Concept struct {
	Title           string         `json:"title"`
	Definition      string         `json:"definition,omitempty"`
	Examples        []string       `json:"examples,omitempty"`
	Timecodes       []string       `json:"timecodes,omitempty"`
	SlideReferences []int          `json:"slide_references,omitempty"`
	WebReferences   []WebReference `json:"web_references,omitempty"`
}

// WebReference points at a web page a concept draws on.
type WebReference struct {
	URL         string `json:"url"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// Exercise is a practice task; DifficultyLevel is 1..5.
type Exercise struct {
	Description       string `json:"description"`
	ReferenceSolution string `json:"reference_solution,omitempty"`
	GradingCriteria   string `json:"grading_criteria,omitempty"`
	DifficultyLevel   int    `json:"difficulty_level"`
}

// Correction is a change a reconcile pass reports.
type Correction struct {
	TargetNodeID string `json:"target_node_id"`
	Field        string `json:"field"`
	Action       string `json:"action"`
	OldValue     string `json:"old_value"`
	NewValue     string `json:"new_value"`
	Reason       string `json:"reason"`
}

// StructureContext is the CourseContext input of a structuring prompt (docs/design/llm.md,
// "Context"): the target node, the mode and the documents of its subtree.
type StructureContext struct {
	Target    ContextTarget     `json:"target"`
	Mode      string            `json:"mode"`
	Documents []ContextDocument `json:"documents"`
	// The parts below are filled by generation steps (docs/design/generation.md).
	MaterialTree      []OutlineNode   `json:"material_tree,omitempty"`
	ChildrenSummaries []NodeSummary   `json:"children_summaries,omitempty"`
	ParentSummary     *NodeSummary    `json:"parent_summary,omitempty"`
	SiblingSummaries  []NodeSummary   `json:"sibling_summaries,omitempty"`
	CurrentStructure  json.RawMessage `json:"current_structure,omitempty"`
}

// OutlineNode is one node of the material-tree outline: its title and the
// filenames of its ready materials.
type OutlineNode struct {
	NodeID    string        `json:"node_id"`
	Title     string        `json:"title"`
	Materials []string      `json:"materials,omitempty"`
	Children  []OutlineNode `json:"children,omitempty"`
}

// NodeSummary is the latest summary of a related node.
type NodeSummary struct {
	NodeID       string   `json:"node_id"`
	Title        string   `json:"title"`
	Summary      string   `json:"summary"`
	CoreConcepts []string `json:"core_concepts,omitempty"`
}

// ContextTimecodeRef is a TimecodeRef as the model sees it in the
// context: the part of a video a validated mapping names; End is nil when
// the mapping has no end.
type ContextTimecodeRef struct {
	VideoMaterialID string `json:"video_material_id"`
	Start           int    `json:"start"`
	End             *int   `json:"end,omitempty"`
}

// ContextTarget is the node being structured.
type ContextTarget struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ContextDocument is one ready material with its selected chunks.
type ContextDocument struct {
	MaterialID string         `json:"material_id"`
	SourceType string         `json:"source_type"`
	Filename   string         `json:"filename,omitempty"`
	Title      string         `json:"title,omitempty"`
	Chunks     []ContextChunk `json:"chunks"`
}

// ContextChunk is one chunk as the SourceDocument defines it.
type ContextChunk struct {
	ChunkType string        `json:"chunk_type"`
	Text      string        `json:"text"`
	Index     int           `json:"index"`
	Metadata  ChunkMetadata `json:"metadata"`
	// TimecodeRefs link a presentation chunk to video (validated mappings).
	TimecodeRefs []ContextTimecodeRef `json:"timecode_refs,omitempty"`
}

// ChunkMetadata is the chunk metadata a structure refers to.
type ChunkMetadata struct {
	StartSec    *float64 `json:"start_sec,omitempty"`
	EndSec      *float64 `json:"end_sec,omitempty"`
	SlideNumber *int     `json:"slide_number,omitempty"`
	Level       *int     `json:"level,omitempty"`
}

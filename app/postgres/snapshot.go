package postgres

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// structureNodeRow is the structure_nodes row.
type structureNodeRow struct {
	ID                 uuid.UUID  `gorm:"column:id;primaryKey"`
	SnapshotID         uuid.UUID  `gorm:"column:structuresnapshot_id"`
	ParentID           *uuid.UUID `gorm:"column:parent_structurenode_id"`
	NodeType           string     `gorm:"column:node_type"`
	Order              int        `gorm:"column:order"`
	Title              string     `gorm:"column:title"`
	Description        *string    `gorm:"column:description"`
	LearningGoal       *string    `gorm:"column:learning_goal"`
	SuccessCriteria    *string    `gorm:"column:success_criteria"`
	ExpectedKnowledge  jsonField  `gorm:"column:expected_knowledge"`
	ExpectedSkills     jsonField  `gorm:"column:expected_skills"`
	Prerequisites      jsonField  `gorm:"column:prerequisites"`
	Competencies       jsonField  `gorm:"column:competencies"`
	KeyConcepts        jsonField  `gorm:"column:key_concepts"`
	CommonMistakes     jsonField  `gorm:"column:common_mistakes"`
	Activities         jsonField  `gorm:"column:activities"`
	DeepDiveReferences jsonField  `gorm:"column:deep_dive_references"`
	Timecodes          jsonField  `gorm:"column:timecodes"`
	SlideReferences    jsonField  `gorm:"column:slide_references"`
	WebReferences      jsonField  `gorm:"column:web_references"`
	Difficulty         *string    `gorm:"column:difficulty"`
	EstimatedDuration  *int       `gorm:"column:estimated_duration"`
	AssessmentMethod   *string    `gorm:"column:assessment_method"`
	TeachingStrategy   *string    `gorm:"column:teaching_strategy"`
	TeachingStyle      *string    `gorm:"column:teaching_style"`
	CreatedAt          time.Time  `gorm:"column:created_at"`
}

func (structureNodeRow) TableName() string { return "structure_nodes" }

// storeStructureNodes inserts a flattened structure, parents before
// children, in one statement.
func storeStructureNodes(tx *gorm.DB, snapshotID uuid.UUID, tree []*course.StructureNode) error {
	var rows []structureNodeRow
	var walk func(parent *uuid.UUID, nodes []*course.StructureNode) error
	walk = func(parent *uuid.UUID, nodes []*course.StructureNode) error {
		for _, n := range nodes {
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("new structure node id: %w", err)
			}
			rows = append(rows, toStructureNodeRow(snapshotID, parent, id, n))
			if err := walk(&id, n.Children); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(nil, tree); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	if err := tx.Omit("created_at", "updated_at").CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("insert structure nodes: %w", err)
	}
	return nil
}

func toStructureNodeRow(snapshotID uuid.UUID, parent *uuid.UUID, id uuid.UUID, n *course.StructureNode) structureNodeRow {
	return structureNodeRow{ID: id, SnapshotID: snapshotID, ParentID: parent, NodeType: n.NodeType, Order: n.Order,
		Title: clipRunes(n.Title, 500), Description: n.Description, LearningGoal: n.LearningGoal,
		SuccessCriteria: n.SuccessCriteria, ExpectedKnowledge: jsonField(n.ExpectedKnowledge),
		ExpectedSkills: jsonField(n.ExpectedSkills), Prerequisites: jsonField(n.Prerequisites),
		Competencies: jsonField(n.Competencies), KeyConcepts: jsonField(n.KeyConcepts),
		CommonMistakes: jsonField(n.CommonMistakes), Activities: jsonField(n.Activities),
		DeepDiveReferences: jsonField(n.DeepDiveReferences), Timecodes: jsonField(n.Timecodes),
		SlideReferences: jsonField(n.SlideReferences), WebReferences: jsonField(n.WebReferences),
		Difficulty: n.Difficulty, EstimatedDuration: n.EstimatedDuration, AssessmentMethod: n.AssessmentMethod,
		TeachingStrategy: n.TeachingStrategy, TeachingStyle: n.TeachingStyle}
}

func toStructureNode(r *structureNodeRow) *course.StructureNode {
	return &course.StructureNode{ID: r.ID, NodeType: r.NodeType, Order: r.Order, Title: r.Title,
		Description: r.Description, LearningGoal: r.LearningGoal, SuccessCriteria: r.SuccessCriteria,
		Difficulty: r.Difficulty, EstimatedDuration: r.EstimatedDuration, AssessmentMethod: r.AssessmentMethod,
		TeachingStrategy: r.TeachingStrategy, TeachingStyle: r.TeachingStyle,
		ExpectedKnowledge: json.RawMessage(r.ExpectedKnowledge), ExpectedSkills: json.RawMessage(r.ExpectedSkills),
		Prerequisites: json.RawMessage(r.Prerequisites), Competencies: json.RawMessage(r.Competencies),
		KeyConcepts: json.RawMessage(r.KeyConcepts), CommonMistakes: json.RawMessage(r.CommonMistakes),
		Activities: json.RawMessage(r.Activities), DeepDiveReferences: json.RawMessage(r.DeepDiveReferences),
		Timecodes: json.RawMessage(r.Timecodes), SlideReferences: json.RawMessage(r.SlideReferences),
		WebReferences: json.RawMessage(r.WebReferences)}
}

// structureTree reads a snapshot's structure nodes as a tree, children by
// (order, id).
func structureTree(tx *gorm.DB, snapshotID uuid.UUID) ([]*course.StructureNode, error) {
	var rows []structureNodeRow
	if err := tx.Where("structuresnapshot_id = ?", snapshotID).Order(`"order", id`).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load structure nodes: %w", err)
	}
	byID := map[uuid.UUID]*course.StructureNode{}
	for i := range rows {
		byID[rows[i].ID] = toStructureNode(&rows[i])
	}
	top := []*course.StructureNode{}
	for i := range rows {
		n := byID[rows[i].ID]
		if p := rows[i].ParentID; p != nil && byID[*p] != nil {
			byID[*p].Children = append(byID[*p].Children, n)
			continue
		}
		top = append(top, n)
	}
	return top, nil
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// jsonField is a nullable jsonb column: empty is NULL.
type jsonField []byte

// Value implements driver.Valuer.
func (j jsonField) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *jsonField) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append(jsonField(nil), v...)
	case string:
		*j = jsonField(v)
	default:
		return fmt.Errorf("jsonField: cannot scan %T", src)
	}
	return nil
}

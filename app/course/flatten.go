package course

import (
	"encoding/json"
	"fmt"
)

// Flatten turns a CourseStructure into structure nodes: modules at the
// top, lessons under them, concepts then exercises under each lesson
// (docs/design/generation.md, "Flattening"). Examples and reference
// solutions stay only in the raw structure.
func Flatten(s *Structure) []*StructureNode {
	out := make([]*StructureNode, 0, len(s.Modules))
	for i, m := range s.Modules {
		mod := &StructureNode{NodeType: "module", Order: i, Title: m.Title, Description: opt(m.Description),
			LearningGoal: opt(m.LearningGoal), Difficulty: opt(m.Difficulty),
			ExpectedKnowledge: summaries(m.ExpectedKnowledge), ExpectedSkills: summaries(m.ExpectedSkills)}
		for j, l := range m.Lessons {
			mod.Children = append(mod.Children, flattenLesson(j, &l))
		}
		out = append(out, mod)
	}
	return out
}

func flattenLesson(j int, l *Lesson) *StructureNode {
	les := &StructureNode{NodeType: "lesson", Order: j, Title: l.Title}
	if l.VideoStartTimecode != "" {
		les.Timecodes = raw([]map[string]string{{"start": l.VideoStartTimecode, "end": l.VideoEndTimecode}})
	}
	if l.SlideRange != nil {
		les.SlideReferences = raw([]map[string]int{{"start": l.SlideRange.Start, "end": l.SlideRange.End}})
	}
	for k, c := range l.Concepts {
		n := &StructureNode{NodeType: "concept", Order: k, Title: c.Title, Description: opt(c.Definition),
			KeyConcepts: raw([]map[string]string{{"summary": c.Title, "details": c.Definition}})}
		if len(c.Timecodes) > 0 {
			tc := make([]map[string]string, len(c.Timecodes))
			for i, t := range c.Timecodes {
				tc[i] = map[string]string{"timecode": t}
			}
			n.Timecodes = raw(tc)
		}
		if len(c.SlideReferences) > 0 {
			sr := make([]map[string]int, len(c.SlideReferences))
			for i, sl := range c.SlideReferences {
				sr[i] = map[string]int{"slide": sl}
			}
			n.SlideReferences = raw(sr)
		}
		if len(c.WebReferences) > 0 {
			n.WebReferences = raw(c.WebReferences)
		}
		les.Children = append(les.Children, n)
	}
	for m, e := range l.Exercises {
		les.Children = append(les.Children, &StructureNode{NodeType: "exercise", Order: len(l.Concepts) + m,
			Title: fmt.Sprintf("Exercise %d", m+1), Description: opt(e.Description),
			Difficulty: opt(exerciseDifficulty(e.DifficultyLevel)), SuccessCriteria: opt(e.GradingCriteria)})
	}
	return les
}

// exerciseDifficulty maps a 1..5 level to easy (1–2), medium (3), hard (4–5).
func exerciseDifficulty(level int) string {
	switch {
	case level <= 0:
		return ""
	case level <= 2:
		return "easy"
	case level == 3:
		return "medium"
	}
	return "hard"
}

func summaries(items []string) json.RawMessage {
	if len(items) == 0 {
		return nil
	}
	out := make([]map[string]string, len(items))
	for i, s := range items {
		out[i] = map[string]string{"summary": s, "details": ""}
	}
	return raw(out)
}

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

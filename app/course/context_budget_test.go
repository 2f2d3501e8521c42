package course_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
)

func chunk(typ string, tokens int, rank float64, index int) course.RankedChunk {
	return course.RankedChunk{ContextChunk: course.ContextChunk{ChunkType: typ, Text: strings.Repeat("x", tokens*4), Index: index},
		Tokens: tokens, Rank: rank}
}

// Ensure documents that fit are sent whole, untouched.
func TestAssembleContextFits(t *testing.T) {
	in := &course.StepInput{Documents: []course.RankedDocument{{MaterialID: "m", Chunks: []course.RankedChunk{
		chunk("paragraph", 10, 0, 0), chunk("paragraph", 10, 0, 1)}}}}
	cc, st := course.AssembleContext(in, course.ModeFree, 20)
	if st.Truncated || len(cc.Documents[0].Chunks) != 2 || st.SelectedTokens != 20 {
		t.Fatalf("%+v %+v", st, cc)
	}
}

// Ensure a subtree over the budget is cut to it: every heading chunk and
// each document's first chunk kept, then the best-ranked chunks that fit,
// in document order.
func TestAssembleContextBudget(t *testing.T) {
	in := &course.StepInput{Documents: []course.RankedDocument{
		{MaterialID: "a", Chunks: []course.RankedChunk{
			chunk("paragraph", 100, 0.1, 0), // first chunk: kept
			chunk("heading", 5, 0, 1),       // heading: kept
			chunk("paragraph", 300, 0.9, 2), // best rank but too big for what is left
			chunk("paragraph", 100, 0.5, 3), // fits: kept
			chunk("heading", 5, 0, 4),
			chunk("paragraph", 100, 0.2, 5), // lower rank: no room
		}},
		{MaterialID: "b", Chunks: []course.RankedChunk{
			chunk("paragraph", 50, 0, 0), // first chunk: kept
			chunk("paragraph", 100, 0.6, 1),
		}},
	}}
	cc, st := course.AssembleContext(in, course.ModeFree, 400)
	got := map[string][]int{}
	for _, d := range cc.Documents {
		for _, c := range d.Chunks {
			got[d.MaterialID] = append(got[d.MaterialID], c.Index)
		}
	}
	if !st.Truncated || st.TotalChunks != 8 || st.SelectedTokens > 400 {
		t.Fatalf("stats %+v", st)
	}
	if a, b := fmt.Sprint(got["a"]), fmt.Sprint(got["b"]); a != "[0 1 3 4]" || b != "[0 1]" {
		t.Fatalf("selected a=%s b=%s", a, b)
	}
	if st.SelectedTokens != 100+5+5+50+100+100 {
		t.Errorf("selected tokens %d", st.SelectedTokens)
	}
}

// Ensure headings are kept even when they alone exceed the budget.
func TestAssembleContextKeepsEveryHeading(t *testing.T) {
	var chunks []course.RankedChunk
	for i := range 20 {
		chunks = append(chunks, chunk("heading", 10, 0, 2*i), chunk("paragraph", 10, 1, 2*i+1))
	}
	cc, _ := course.AssembleContext(&course.StepInput{Documents: []course.RankedDocument{{MaterialID: "a", Chunks: chunks}}},
		course.ModeFree, 50)
	headings := 0
	for _, c := range cc.Documents[0].Chunks {
		if c.ChunkType == "heading" {
			headings++
		}
	}
	if headings != 20 {
		t.Errorf("%d of 20 headings kept", headings)
	}
}

// Ensure the summaries and outline are capped at a quarter of the
// budget, sibling summaries dropped first.
func TestAssembleContextCapsSummaries(t *testing.T) {
	long := strings.Repeat("s", 400)
	in := &course.StepInput{
		ChildrenSummaries: []course.NodeSummary{{NodeID: "c", Title: "C", Summary: "short"}},
		SiblingSummaries:  []course.NodeSummary{{NodeID: "s1", Summary: long}, {NodeID: "s2", Summary: long}},
	}
	cc, _ := course.AssembleContext(in, course.ModeFree, 400)
	if len(cc.SiblingSummaries) != 0 || len(cc.ChildrenSummaries) != 1 {
		t.Errorf("siblings %d children %d", len(cc.SiblingSummaries), len(cc.ChildrenSummaries))
	}
}

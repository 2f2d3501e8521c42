package course_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure the embedding ranking puts every embedded chunk, in similarity
// order, above every chunk without a vector, which keep their text order,
// so a budget of two chunks beyond the first takes the two most similar.
func TestApplyEmbeddingRank(t *testing.T) {
	t.Parallel()
	ids := make([]uuid.UUID, 5)
	for i := range ids {
		ids[i] = uuid.New()
	}
	chunk := func(i int, text string, rank float64) course.RankedChunk {
		return course.RankedChunk{ID: ids[i], ContextChunk: course.ContextChunk{ChunkType: "paragraph", Text: text, Index: i},
			Tokens: 10, Rank: rank}
	}
	in := &course.StepInput{Documents: []course.RankedDocument{{MaterialID: "m", Chunks: []course.RankedChunk{
		chunk(0, "first", 0), chunk(1, "text hit", 5), chunk(2, "similar", 0), chunk(3, "most similar", 0),
		chunk(4, "unembedded text hit", 9)}}}}
	if !course.NeedsRanking(in.Documents, 30) || course.NeedsRanking(in.Documents, 50) {
		t.Fatal("NeedsRanking disagrees with the budget")
	}
	course.ApplyEmbeddingRank(in.Documents, []uuid.UUID{ids[3], ids[2], ids[1]})
	c := in.Documents[0].Chunks
	if !(c[3].Rank > c[2].Rank && c[2].Rank > c[1].Rank && c[1].Rank > c[4].Rank && c[4].Rank > c[0].Rank) {
		t.Errorf("ranks %v %v %v %v %v", c[0].Rank, c[1].Rank, c[2].Rank, c[3].Rank, c[4].Rank)
	}
	cc, _ := course.AssembleContext(in, "free", 30)
	var got []string
	for _, ch := range cc.Documents[0].Chunks {
		got = append(got, ch.Text)
	}
	if len(got) != 3 || got[1] != "similar" || got[2] != "most similar" {
		t.Errorf("context %q", got)
	}
}

// Ensure the child titles of the query come from the loaded outline.
func TestContextChildTitles(t *testing.T) {
	t.Parallel()
	tree := []course.OutlineNode{{Title: "root", Children: []course.OutlineNode{{Title: "a"}, {Title: "b"}}}}
	if got := course.ContextChildTitles(tree); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("%q", got)
	}
	if course.ContextChildTitles(nil) != nil {
		t.Error("titles without an outline")
	}
}

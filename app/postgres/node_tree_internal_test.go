package postgres

import (
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure linkTree puts every row under its parent, keeps each level in
// row order, and cuts children lists that do not share capacity: an
// append to one list must not overwrite a sibling's.
func TestLinkTreeKeepsRowOrderPerParent(t *testing.T) {
	mk := func(parent *course.Node, title string) *course.Node {
		n := &course.Node{ID: uuid.New(), Title: title}
		if parent != nil {
			n.ParentID = &parent.ID
		}
		return n
	}
	root := mk(nil, "root")
	a, b := mk(root, "a"), mk(root, "b")
	a1, a2, b1 := mk(a, "a1"), mk(a, "a2"), mk(b, "b1")
	a11 := mk(a1, "a11")
	// Rows by (order, id): levels interleave.
	got := linkTree([]*course.Node{a1, root, b1, a, a11, b, a2}, root.ID)
	if got != root {
		t.Fatalf("root: %v", got)
	}
	shape := func(n *course.Node) []string {
		var out []string
		for _, c := range n.Children {
			out = append(out, c.Title)
		}
		return out
	}
	for _, c := range []struct {
		n    *course.Node
		want []string
	}{{root, []string{"a", "b"}}, {a, []string{"a1", "a2"}}, {b, []string{"b1"}}, {a1, []string{"a11"}}, {a11, nil}, {a2, nil}} {
		if g := shape(c.n); len(g) != len(c.want) || (len(g) > 0 && g[0] != c.want[0]) || (len(g) > 1 && g[1] != c.want[1]) {
			t.Errorf("%s children = %v, want %v", c.n.Title, g, c.want)
		}
	}
	a.Children = append(a.Children, mk(a, "extra"))
	if shape(b)[0] != "b1" || shape(a1)[0] != "a11" {
		t.Fatalf("append to one children list changed another: b %v, a1 %v", shape(b), shape(a1))
	}
}

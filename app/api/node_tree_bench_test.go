package api

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// benchTree is bench/read's course in memory: a root, 7 chapters of 6
// lessons, every node with a description.
func benchTree() *course.Node {
	desc := "A lesson of the benchmark course: what it covers, what to read first, and what to practise."
	tenant, now := uuid.New(), time.Now()
	node := func(parent *course.Node, title string, order int) *course.Node {
		n := &course.Node{ID: uuid.New(), TenantID: tenant, Title: title, Description: &desc, Order: order, CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			n.ParentID = &parent.ID
			parent.Children = append(parent.Children, n)
		}
		return n
	}
	root := node(nil, "Benchmark course", 0)
	for c := range 7 {
		ch := node(root, fmt.Sprintf("Chapter %d: a chapter title of ordinary length", c+1), c)
		for l := range 6 {
			node(ch, fmt.Sprintf("Lesson %d.%d: a lesson title of ordinary length", c+1, l+1), l)
		}
	}
	return root
}

// BenchmarkTreeEncode compares the tree body's two encodings on the same
// 50-node tree: the DTO copy through encoding/json (before) and
// node_tree.go's writer (after):
//
//	go test ./app/api -run '^$' -bench TreeEncode -benchmem -count 5
func BenchmarkTreeEncode(b *testing.B) {
	root := benchTree()
	b.Run("dto+encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := huma.DefaultJSONFormat.Marshal(io.Discard, []NodeTreeResponse{toNodeTreeDTO(root)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append-writer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := marshalJSON(io.Discard, nodeTrees{root}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

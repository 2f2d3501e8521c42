package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func orders(t *testing.T, s *stack, key, parent string) map[string]float64 {
	t.Helper()
	r := s.call(http.MethodGet, "/api/v1/nodes/"+parent+"/tree", key, nil)
	var tree []map[string]any
	mustJSON(t, r.Raw, &tree)
	out := map[string]float64{}
	for _, c := range tree[0]["children"].([]any) {
		m := c.(map[string]any)
		out[m["title"].(string)] = m["order"].(float64)
	}
	return out
}

// Ensure create, get, list, tree and detail show the documented shapes and
// ordering, with root order counted per tenant.
func TestNodeCreateAndRead(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	_, other := s.tenantWithKey("other")
	s.mustCreate(other, "", "other's course") // must not shift acme's root order
	root := s.mustCreate(key, "", "Course")
	r := s.call(http.MethodGet, "/api/v1/nodes/"+root, key, nil)
	n := r.json(t)
	if r.Status != 200 || n["order"].(float64) != 0 || n["parent_materialnode_id"] != nil || n["description"] != nil {
		t.Fatalf("root: %d %s", r.Status, r.Raw)
	}
	for _, k := range []string{"id", "tenant_id", "title", "learning_goal", "expected_knowledge", "expected_skills", "node_fingerprint", "created_at", "updated_at"} {
		if _, ok := n[k]; !ok {
			t.Errorf("NodeResponse lacks %s", k)
		}
	}
	if ts := n["created_at"].(string); len(ts) < 26 || ts[len(ts)-6:] != "+00:00" {
		t.Errorf("created_at %q is not RFC 3339 UTC with +00:00", ts)
	}
	second := s.mustCreate(key, "", "Second")
	if o := s.call(http.MethodGet, "/api/v1/nodes/"+second, key, nil).json(t)["order"]; o != 1.0 {
		t.Fatalf("second root order %v, want 1 (per tenant)", o)
	}
	a := s.mustCreate(key, root, "A")
	s.mustCreate(key, root, "B")
	s.mustCreate(key, a, "A1")
	if got := orders(t, s, key, root); got["A"] != 0 || got["B"] != 1 {
		t.Fatalf("children orders %v", got)
	}
	r = s.call(http.MethodGet, "/api/v1/nodes/"+root+"/detail", key, nil)
	var detail []map[string]any
	mustJSON(t, r.Raw, &detail)
	kids := detail[0]["children"].([]any)
	if len(detail) != 1 || len(kids) != 2 || detail[0]["materials"] == nil {
		t.Fatalf("detail: %s", r.Raw)
	}
	if len(kids[0].(map[string]any)["children"].([]any)) != 1 {
		t.Fatalf("detail lost the grandchild: %s", r.Raw)
	}
	r = s.call(http.MethodGet, "/api/v1/nodes?limit=1&offset=0", key, nil)
	page := r.json(t)
	items := page["items"].([]any)
	if page["total"] != 2.0 || page["limit"] != 1.0 || len(items) != 1 || items[0].(map[string]any)["title"] != "Second" {
		t.Fatalf("page: %s", r.Raw)
	}
}

// Ensure PATCH leaves omitted keys alone, clears description on null and
// ignores a null title.
func TestNodePatchIsPresenceSensitive(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	id := s.mustCreate(key, "", "T")
	patch := func(body string) map[string]any {
		r := s.call(http.MethodPatch, "/api/v1/nodes/"+id, key, body)
		if r.Status != 200 {
			t.Fatalf("patch %s: %d %s", body, r.Status, r.Raw)
		}
		return r.json(t)
	}
	if n := patch(`{"description":"d"}`); n["title"] != "T" || n["description"] != "d" {
		t.Fatalf("%v", n)
	}
	if n := patch(`{"title":"T2"}`); n["title"] != "T2" || n["description"] != "d" {
		t.Fatalf("omitted description changed: %v", n)
	}
	if n := patch(`{"title":null,"description":null}`); n["title"] != "T2" || n["description"] != nil {
		t.Fatalf("null handling: %v", n)
	}
	if r := s.call(http.MethodPatch, "/api/v1/nodes/"+id, key, `{"title":""}`); r.Status != 422 {
		t.Fatalf("empty title: %d", r.Status)
	}
}

// Ensure move rejects self and cycles with the documented messages, makes
// a root on null, and appends to the new siblings while compacting the old.
func TestNodeMove(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "R")
	a := s.mustCreate(key, root, "A")
	b := s.mustCreate(key, root, "B")
	c := s.mustCreate(key, root, "C")
	a1 := s.mustCreate(key, a, "A1")
	move := func(id string, parent any) reply {
		return s.call(http.MethodPost, "/api/v1/nodes/"+id+"/move", key, map[string]any{"parent_materialnode_id": parent})
	}
	if r := move(a, a); r.Status != 422 || r.detail(t) != "Cannot move node to be its own parent" {
		t.Fatalf("self: %d %s", r.Status, r.Raw)
	}
	want := fmt.Sprintf("Cannot move node %s under %s: would create a cycle", a, a1)
	if r := move(a, a1); r.Status != 422 || r.detail(t) != want {
		t.Fatalf("cycle: %d %s", r.Status, r.Raw)
	}
	if r := move(b, a); r.Status != 200 || r.json(t)["order"] != 1.0 {
		t.Fatalf("move under A: %d %s", r.Status, r.Raw)
	}
	if got := orders(t, s, key, root); got["A"] != 0 || got["C"] != 1 || len(got) != 2 {
		t.Fatalf("old siblings not compacted: %v", got)
	}
	if r := move(c, nil); r.Status != 200 || r.json(t)["parent_materialnode_id"] != nil || r.json(t)["order"] != 1.0 {
		t.Fatalf("to root: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodPost, "/api/v1/nodes/"+a+"/move", key, map[string]any{}); r.Status != 422 {
		t.Fatalf("missing parent key must be 422: %d", r.Status)
	}
	if r := move(a, "0190b4a0-0000-7000-8000-000000000000"); r.Status != 404 || r.detail(t) != "Node not found" {
		t.Fatalf("unknown target: %d %s", r.Status, r.Raw)
	}
}

// Ensure reorder renumbers siblings 0..n-1 and clamps the target.
func TestNodeReorder(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "R")
	a := s.mustCreate(key, root, "A")
	s.mustCreate(key, root, "B")
	c := s.mustCreate(key, root, "C")
	if r := s.call(http.MethodPost, "/api/v1/nodes/"+a+"/reorder", key, map[string]any{"order": 99}); r.Status != 200 || r.json(t)["order"] != 2.0 {
		t.Fatalf("clamp: %d %s", r.Status, r.Raw)
	}
	s.call(http.MethodPost, "/api/v1/nodes/"+c+"/reorder", key, map[string]any{"order": 0})
	if got := orders(t, s, key, root); got["C"] != 0 || got["B"] != 1 || got["A"] != 2 {
		t.Fatalf("orders %v", got)
	}
	if r := s.call(http.MethodPost, "/api/v1/nodes/"+c+"/reorder", key, map[string]any{"order": -1}); r.Status != 422 {
		t.Fatalf("negative order: %d", r.Status)
	}
}

// Ensure delete removes the subtree and compacts the siblings.
func TestNodeDeleteCascades(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "R")
	a := s.mustCreate(key, root, "A")
	s.mustCreate(key, root, "B")
	a1 := s.mustCreate(key, a, "A1")
	if r := s.call(http.MethodDelete, "/api/v1/nodes/"+a, key, nil); r.Status != 204 || len(r.Raw) != 0 {
		t.Fatalf("delete: %d %q", r.Status, r.Raw)
	}
	if r := s.call(http.MethodGet, "/api/v1/nodes/"+a1, key, nil); r.Status != 404 {
		t.Fatalf("grandchild survived: %d", r.Status)
	}
	if got := orders(t, s, key, root); got["B"] != 0 || len(got) != 1 {
		t.Fatalf("orders %v", got)
	}
}

// Ensure concurrent creates never produce duplicate sibling orders.
func TestConcurrentCreatesKeepOrdersUnique(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "R")
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.mustCreate(key, root, fmt.Sprint("n", i))
		}()
	}
	wg.Wait()
	seen := map[float64]bool{}
	for _, o := range orders(t, s, key, root) {
		if seen[o] || o < 0 || o > 11 {
			t.Fatalf("duplicate or out-of-range order %v", o)
		}
		seen[o] = true
	}
}

// Ensure two crossing moves (A under B, B under A) at the same time never
// build a cycle: one succeeds, the other is refused, both return.
func TestCrossingMovesNeverCycle(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	for round := 0; round < 10; round++ {
		root := s.mustCreate(key, "", "R")
		a := s.mustCreate(key, root, "A")
		b := s.mustCreate(key, root, "B")
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, pair := range [][2]string{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = s.call(http.MethodPost, "/api/v1/nodes/"+pair[0]+"/move", key,
					map[string]any{"parent_materialnode_id": pair[1]}).Status
			}()
		}
		wg.Wait()
		if oneEach := codes[0]+codes[1] == 622 && codes[0] != codes[1]; !oneEach {
			t.Fatalf("round %d: statuses %v, want one 200 and one 422", round, codes)
		}
		if r := s.call(http.MethodGet, "/api/v1/nodes/"+root+"/tree", key, nil); r.Status != 200 {
			t.Fatalf("tree after crossing moves: %d", r.Status)
		}
	}
}

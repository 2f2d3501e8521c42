package api_test

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"sort"
	"strings"
	"testing"
)

// isolationCases lists every authenticated route with the body it is
// called with. A route registered without a case here fails the test, so a
// new endpoint cannot skip the isolation check.
var isolationCases = map[string]struct {
	body any
	// listOnly routes take no foreign id; the test checks instead that
	// nothing of the other tenant is listed.
	listOnly bool
}{
	"POST /api/v1/nodes":               {body: map[string]any{"title": "x"}, listOnly: true},
	"GET /api/v1/nodes":                {listOnly: true},
	"POST /api/v1/nodes/{id}/children": {body: map[string]any{"title": "x"}},
	"GET /api/v1/nodes/{id}/tree":      {},
	"GET /api/v1/nodes/{id}/detail":    {},
	"GET /api/v1/nodes/{id}":           {},
	"PATCH /api/v1/nodes/{id}":         {body: map[string]any{"title": "stolen"}},
	"POST /api/v1/nodes/{id}/move":     {body: map[string]any{"parent_materialnode_id": nil}},
	"POST /api/v1/nodes/{id}/reorder":  {body: map[string]any{"order": 0}},
	"DELETE /api/v1/nodes/{id}":        {},
}

// Ensure another tenant's resources are always 404, never 403 or 2xx, on
// every registered route, and that nothing was changed.
func TestTenantIsolationOnEveryRoute(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, victimKey := s.tenantWithKey("victim")
	_, attackerKey := s.tenantWithKey("attacker")
	victimRoot := s.mustCreate(victimKey, "", "secret course")
	victimChild := s.mustCreate(victimKey, victimRoot, "secret chapter")
	attackerRoot := s.mustCreate(attackerKey, "", "mine")

	var routes []string
	for path, item := range s.srv.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PATCH": item.Patch, "PUT": item.Put, "DELETE": item.Delete} {
			if op == nil || !strings.HasPrefix(path, "/api/") {
				continue
			}
			routes = append(routes, method+" "+path)
		}
	}
	sort.Strings(routes)
	if len(routes) < 10 {
		t.Fatalf("only %d routes found: %v", len(routes), routes)
	}
	for _, route := range routes {
		tc, ok := isolationCases[route]
		if !ok {
			t.Errorf("route %s has no tenant isolation case", route)
			continue
		}
		method, path, _ := strings.Cut(route, " ")
		if tc.listOnly {
			continue
		}
		for _, foreign := range []string{victimChild, victimRoot} {
			r := s.call(method, strings.ReplaceAll(path, "{id}", foreign), attackerKey, tc.body)
			if r.Status != http.StatusNotFound || r.detail(t) != "Node not found" {
				t.Errorf("%s with a foreign id: %d %s, want 404 Node not found", route, r.Status, r.Raw)
			}
		}
	}
	for route := range isolationCases {
		found := false
		for _, r := range routes {
			found = found || r == route
		}
		if !found {
			t.Errorf("isolation case %s matches no registered route", route)
		}
	}
	// Moving one's own node under a foreign parent is a 404 too.
	r := s.call(http.MethodPost, "/api/v1/nodes/"+attackerRoot+"/move", attackerKey, map[string]any{"parent_materialnode_id": victimRoot})
	if r.Status != http.StatusNotFound {
		t.Errorf("move under a foreign parent: %d", r.Status)
	}
	// The list shows only the caller's roots.
	page := s.call(http.MethodGet, "/api/v1/nodes", attackerKey, nil).json(t)
	if page["total"] != 1.0 {
		t.Errorf("attacker sees %v roots, want 1", page["total"])
	}
	// Nothing of the victim changed.
	tree := s.call(http.MethodGet, "/api/v1/nodes/"+victimRoot+"/tree", victimKey, nil)
	if tree.Status != 200 || !contains(string(tree.Raw), "secret chapter") || contains(string(tree.Raw), "stolen") {
		t.Fatalf("victim tree changed: %s", tree.Raw)
	}
}

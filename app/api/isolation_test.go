package api_test

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
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
	// query is appended to the path (required query parameters).
	query string
}{
	"POST /api/v1/nodes":                {body: map[string]any{"title": "x"}, listOnly: true},
	"GET /api/v1/nodes":                 {listOnly: true},
	"POST /api/v1/nodes/{id}/children":  {body: map[string]any{"title": "x"}},
	"GET /api/v1/nodes/{id}/tree":       {},
	"GET /api/v1/nodes/{id}/detail":     {},
	"GET /api/v1/nodes/{id}":            {},
	"PATCH /api/v1/nodes/{id}":          {body: map[string]any{"title": "stolen"}},
	"POST /api/v1/nodes/{id}/move":      {body: map[string]any{"parent_materialnode_id": nil}},
	"POST /api/v1/nodes/{id}/reorder":   {body: map[string]any{"order": 0}},
	"DELETE /api/v1/nodes/{id}":         {},
	"POST /api/v1/nodes/{id}/materials": {body: "multipart"},
	"GET /api/v1/nodes/{id}/materials":  {},
	"GET /api/v1/nodes/{id}/search":     {query: "?q=secret"},
	"POST /api/v1/nodes/{id}/materials/upload-url": {body: map[string]any{
		"filename": "a.pdf", "content_type": "application/pdf", "source_type": "presentation", "size_bytes": 10}},
	"POST /api/v1/nodes/{id}/materials/confirm-upload": {body: map[string]any{"key": "tenants/x", "source_type": "text"}},
	"GET /api/v1/materials/{mid}":                      {},
	"DELETE /api/v1/materials/{mid}":                   {},
	"POST /api/v1/materials/{mid}/retry":               {},
	"GET /api/v1/storage/files":                        {listOnly: true},
	"GET /api/v1/storage/usage":                        {listOnly: true},
	"DELETE /api/v1/storage/files/{key}":               {},
	"GET /api/v1/jobs/{job_id}":                        {},
	"GET /api/v1/reports/cost":                         {listOnly: true},
	"POST /api/v1/nodes/{id}/slide-mapping": {body: map[string]any{"mappings": []any{map[string]any{
		"presentation_materialentry_id": "x", "video_materialentry_id": "y", "slide_number": 1, "video_timecode_start": "00:00"}}}},
	"GET /api/v1/nodes/{id}/slide-mapping":             {},
	"DELETE /api/v1/slide-mapping/{mapping_id}":        {},
	"POST /api/v1/nodes/{id}/generate":                 {body: map[string]any{"mode": "free"}},
	"POST /api/v1/nodes/{id}/refine":                   {body: map[string]any{}},
	"GET /api/v1/nodes/{id}/structure":                 {},
	"GET /api/v1/nodes/{id}/structure/history":         {},
	"GET /api/v1/nodes/{id}/structure/snapshots/{sid}": {},
}

// Ensure another tenant's resources are always 404, never 403 or 2xx, on
// every registered route, and that nothing was changed.
func TestTenantIsolationOnEveryRoute(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	victimTenant, victimKey := s.tenantWithKey("victim")
	_, attackerKey := s.tenantWithKey("attacker")
	victimRoot := s.mustCreate(victimKey, "", "secret course")
	victimChild := s.mustCreate(victimKey, victimRoot, "secret chapter")
	attackerRoot := s.mustCreate(attackerKey, "", "mine")
	vm := s.upload(victimKey, victimChild, field("source_type", "text"), file("secret.txt", []byte("secret")))
	victimMaterial := vm.json(t)["id"].(string)
	victimObject := s.call(http.MethodGet, "/api/v1/materials/"+victimMaterial, victimKey, nil).json(t)["storage_key"].(string)
	victimJob := vm.json(t)["job_id"].(string)
	s.seedMaterial(victimTenant, victimChild, "v.md", seedChunk{text: "secret plans"})
	if r := s.call(http.MethodGet, "/api/v1/jobs/"+victimJob, victimKey, nil); r.Status != 200 {
		t.Fatalf("the owner cannot read its job: %d %s", r.Status, r.Raw)
	}
	victimDeck := s.mustUpload(victimKey, victimChild, "presentation", "deck.pdf", pdfBytes)
	victimVideo := s.mustUpload(victimKey, victimChild, "video", "lecture.mp4", mp4Stub)
	_, vmap := s.postMappings(victimKey, victimChild, item(victimDeck, victimVideo, 1, "00:00", nil))
	if len(vmap.Mappings) != 1 {
		t.Fatalf("the owner cannot create a mapping: %+v", vmap)
	}
	victimMapping := vmap.Mappings[0]["id"].(string)

	// A snapshot of the victim's chapter (its structure routes must not
	// leak it, not even through the attacker's own node).
	victimSnapshot := uuid.Must(uuid.NewV7()).String()
	s.exec(`INSERT INTO structure_snapshots (id, materialnode_id, node_fingerprint, mode, step_type, structure, summary)
		VALUES ($1, $2, 'fp', 'free', 'generate', '{"title":"secret"}', 'secret summary')`, victimSnapshot, victimChild)

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
		want, detail := http.StatusNotFound, "Node not found"
		switch {
		case strings.Contains(path, "{mid}"):
			detail = "Material not found"
		case strings.Contains(path, "{job_id}"):
			detail = "Job not found"
		case strings.Contains(path, "{mapping_id}"):
			detail = "Mapping not found"
		case strings.Contains(path, "{key}"):
			// A storage key names its tenant, so the spec answers 403 here.
			want, detail = http.StatusForbidden, "Key does not belong to tenant."
		}
		for _, foreign := range []string{victimChild, victimRoot} {
			p := strings.NewReplacer("{id}", foreign, "{mid}", victimMaterial, "{key}", victimObject, "{job_id}", victimJob,
				"{mapping_id}", victimMapping, "{sid}", victimSnapshot).Replace(path) + tc.query
			var r reply
			if tc.body == "multipart" {
				r = s.upload(attackerKey, foreign, field("source_type", "text"), file("x.txt", []byte("x")))
			} else {
				r = s.call(method, p, attackerKey, tc.body)
			}
			if r.Status != want || r.detail(t) != detail {
				t.Errorf("%s with a foreign id: %d %s, want %d %s", route, r.Status, r.Raw, want, detail)
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
	// Another node's snapshot id under one's own node is not found.
	if r := s.call(http.MethodGet, "/api/v1/nodes/"+attackerRoot+"/structure/snapshots/"+victimSnapshot, attackerKey, nil); r.Status != http.StatusNotFound || r.detail(t) != "Snapshot not found." {
		t.Errorf("foreign snapshot under the attacker's node: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodGet, "/api/v1/nodes/"+victimChild+"/structure/snapshots/"+victimSnapshot, victimKey, nil); r.Status != http.StatusOK || !contains(string(r.Raw), "secret summary") {
		t.Errorf("the owner cannot read its snapshot: %d %s", r.Status, r.Raw)
	}
	if n := s.count(`SELECT count(*) FROM jobs WHERE job_type <> 'ingest'`); n != 0 {
		t.Errorf("the attacker's generate/refine created %d jobs", n)
	}
	// The list shows only the caller's roots.
	page := s.call(http.MethodGet, "/api/v1/nodes", attackerKey, nil).json(t)
	if page["total"] != 1.0 {
		t.Errorf("attacker sees %v roots, want 1", page["total"])
	}
	if files := s.call(http.MethodGet, "/api/v1/storage/files", attackerKey, nil); contains(string(files.Raw), victimObject) {
		t.Error("attacker lists the victim's objects")
	}
	// The cost report counts only the caller's external calls.
	s.exec(`INSERT INTO external_service_calls (id, tenant_id, action, strategy, provider, model_id, success, cost_usd)
		VALUES ($1, $2, 'course_structuring', 'default', 'gemini', 'gemini-2.5-flash', true, 1.5)`, uuid.New(), victimTenant)
	if r := s.call(http.MethodGet, "/api/v1/reports/cost", attackerKey, nil); r.Status != 200 || r.json(t)["summary"].(map[string]any)["total_calls"] != 0.0 {
		t.Errorf("attacker's cost report counts foreign calls: %d %s", r.Status, r.Raw)
	}
	if n := s.count(`SELECT count(*) FROM material_entries WHERE id = $1`, victimMaterial); n != 1 {
		t.Error("the victim's material was deleted")
	}
	if n := s.count(`SELECT count(*) FROM slide_video_mappings WHERE id = $1`, victimMapping); n != 1 {
		t.Error("the victim's mapping was deleted")
	}
	// Nothing of the victim changed.
	tree := s.call(http.MethodGet, "/api/v1/nodes/"+victimRoot+"/tree", victimKey, nil)
	if tree.Status != 200 || !contains(string(tree.Raw), "secret chapter") || contains(string(tree.Raw), "stolen") {
		t.Fatalf("victim tree changed: %s", tree.Raw)
	}
}

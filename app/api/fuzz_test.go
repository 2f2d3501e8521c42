package api_test

import (
	"net/http"
	"testing"

	"github.com/course-supporter/course-supporter/app/api"
)

// FuzzNodeJSON drives the JSON input of every node write endpoint and
// ensures no request body ever produces a 5xx. The seed corpus lives in
// testdata/fuzz/FuzzNodeJSON; run longer with
// go test ./app/api -run '^$' -fuzz FuzzNodeJSON -fuzztime 60s.
func FuzzNodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"title":"x"}`, `{"title":""}`, `{"title":null}`, `{"description":null}`,
		`{"parent_materialnode_id":null}`, `{"parent_materialnode_id":"00000000-0000-0000-0000-000000000000"}`,
		`{"order":-1}`, `{"order":1e309}`, `{"order":"1"}`, `[]`, `null`, `"x"`, `{`, `{"title":"\u0000"}`,
	} {
		f.Add(seed)
	}
	s := mustStack(f, func(o *api.Options) { o.RateLimitEnabled = false })
	_, key := s.tenantWithKey("fuzz")
	root := s.mustCreate(key, "", "root")
	child := s.mustCreate(key, root, "child")
	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range []struct{ method, path string }{
			{http.MethodPost, "/api/v1/nodes"},
			{http.MethodPost, "/api/v1/nodes/" + root + "/children"},
			{http.MethodPatch, "/api/v1/nodes/" + child},
			{http.MethodPost, "/api/v1/nodes/" + child + "/move"},
			{http.MethodPost, "/api/v1/nodes/" + child + "/reorder"},
		} {
			if r := s.with(t).call(target.method, target.path, key, body); r.Status >= 500 {
				t.Fatalf("%s %s with %q: %d %s", target.method, target.path, body, r.Status, r.Raw)
			}
		}
	})
}

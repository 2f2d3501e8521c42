package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Ensure bad input gets a clear 4xx in the one envelope, never a 5xx.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "R")

	r := s.call(http.MethodPost, "/api/v1/nodes", key, `{"title": "x"`)
	if r.Status != 422 && r.Status != 400 {
		t.Fatalf("malformed JSON: %d %s", r.Status, r.Raw)
	}
	if contains(string(r.Raw), "unexpected EOF") {
		t.Fatalf("decoder internals leaked: %s", r.Raw)
	}

	big := `{"title":"x","description":"` + strings.Repeat("a", 1<<20) + `"}`
	req := httptest.NewRequest(http.MethodPost, s.listen()+"/api/v1/nodes", strings.NewReader(big))
	req.RequestURI = ""
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !contains(string(raw), `"detail":"Request body too large"`) {
		t.Fatalf("oversized body: %d %s", resp.StatusCode, raw)
	}

	req = httptest.NewRequest(http.MethodPost, "/api/v1/nodes", strings.NewReader(`title=x`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-API-Key", key)
	if r := s.do(req); r.Status != 415 {
		t.Fatalf("wrong content type: %d %s", r.Status, r.Raw)
	}

	r = s.call(http.MethodGet, "/api/v1/nodes/not-a-uuid", key, nil)
	items, _ := r.json(t)["detail"].([]any)
	if r.Status != 422 || len(items) != 1 {
		t.Fatalf("bad uuid: %d %s", r.Status, r.Raw)
	}
	item := items[0].(map[string]any)
	if item["type"] != "uuid_parsing" || item["loc"].([]any)[0] != "path" || item["msg"] == "" {
		t.Fatalf("validation item %v", item)
	}

	r = s.call(http.MethodPost, "/api/v1/nodes/"+root+"/children", key, map[string]any{"title": strings.Repeat("x", 501), "extra": true})
	items, _ = r.json(t)["detail"].([]any)
	if r.Status != 422 || len(items) != 1 || items[0].(map[string]any)["type"] != "string_too_long" {
		t.Fatalf("long title: %d %s", r.Status, r.Raw)
	}
	r = s.call(http.MethodPost, "/api/v1/nodes", key, map[string]any{"description": "no title"})
	items, _ = r.json(t)["detail"].([]any)
	if r.Status != 422 || len(items) != 1 || items[0].(map[string]any)["type"] != "missing" {
		t.Fatalf("missing title: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodGet, "/api/v1/nodes?limit=101", key, nil); r.Status != 422 {
		t.Fatalf("limit over 100: %d", r.Status)
	}
	if r := s.call(http.MethodPost, "/api/v1/nodes", key, map[string]any{"title": "ok", "unknown": 1}); r.Status != 201 {
		t.Fatalf("unknown properties must be ignored: %d %s", r.Status, r.Raw)
	}
}

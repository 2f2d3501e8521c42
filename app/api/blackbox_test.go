package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/course-supporter/course-supporter/app/api"
)

// Regression tests for the defects a black-box client found (issue 12,
// item 9), each over HTTP.

// rawRequests writes every request on one keep-alive connection and reads
// the responses, so fasthttp reuses its request buffers between them.
func rawRequests(t *testing.T, addr string, reqs []string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	for _, r := range reqs {
		method, _, _ := strings.Cut(r, " ")
		if _, err := io.WriteString(conn, r); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method}) // HEAD: no body
		if err != nil {
			t.Fatalf("response to %q: %v", strings.SplitN(r, "\n", 2)[0], err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

// TestMetricsSurviveUnknownMethods: label values taken from fiber's
// request are views of a reused buffer; kept unchanged, a later request
// (fiber answers unknown methods such as "GETT" itself, but their bytes
// land in the same buffer) rewrote a "GET" label in place and /metrics
// answered 500 ("collected before with the same name and label values").
func TestMetricsSurviveUnknownMethods(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := mustStack(t)
	s.deps.Metrics = api.NewMetrics(reg)
	s.build()
	addr := strings.TrimPrefix(s.listen(), "http://")
	var reqs []string
	for _, m := range []string{"GETT", "POSTX", "GET", "PUTT", "GET", "DELETE", "GETT", "HEAD", "PATCH", "OPTIONS", "XYZW"} {
		reqs = append(reqs, m+" /api/v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	}
	for range 3 {
		rawRequests(t, addr, reqs)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather after traffic: %v", err)
	}
	methods := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "cs_http_requests_total" {
			continue
		}
		for _, m := range mf.Metric {
			methods[labelOf(m, "method")] = true
		}
	}
	for m := range methods {
		switch m {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other":
		default:
			t.Errorf("method label %q was rewritten by a later request", m)
		}
	}
	if !methods["GET"] || !methods["DELETE"] {
		t.Errorf("method labels %v, want GET and DELETE", methods)
	}
	// And the scrape endpoint itself answers 200.
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics = %d: %s", rec.Code, rec.Body.String())
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestMalformedMultipartBodies: a body ending right after a delimiter
// line, or framed with another boundary than the header's, is a broken
// body (400), not an empty form (422).
func TestMalformedMultipartBodies(t *testing.T) {
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	const b = "XBOUNDARYX"
	field := func(name, v string) string {
		return "--" + b + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + v + "\r\n"
	}
	cases := map[string]struct{ boundary, body string }{
		"ends after a delimiter line":      {b, "--" + b + "\r\n"},
		"ends after a field and delimiter": {b, field("source_type", "web") + "--" + b + "\r\n"},
		"ends after the first field":       {b, field("source_type", "web")},
		"other boundary than the header":   {"HEADERBOUNDARY", field("source_type", "web") + field("source_url", "https://example.com/") + "--" + b + "--\r\n"},
		"only a preamble":                  {b, "hello\r\n"},
		"empty body":                       {b, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/nodes/"+node+"/materials", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "multipart/form-data; boundary="+c.boundary)
			req.Header.Set("X-API-Key", key)
			r := s.do(req)
			if r.Status != http.StatusBadRequest || r.detail(t) != "Malformed multipart body" {
				t.Fatalf("got %d %s, want 400 Malformed multipart body", r.Status, r.Raw)
			}
		})
	}
	// A well-formed form still works, with or without an epilogue.
	body := field("source_type", "web") + field("source_url", "https://example.com/") + "--" + b + "--"
	for _, tail := range []string{"", "\r\n", "\r\nepilogue\r\n"} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/nodes/"+node+"/materials", bytes.NewReader([]byte(body+tail)))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+b)
		req.Header.Set("X-API-Key", key)
		if r := s.do(req); r.Status != http.StatusCreated {
			t.Fatalf("well-formed form with tail %q: %d %s", tail, r.Status, r.Raw)
		}
	}
}

// TestOffsetPastTheEndIsAnEmptyPage: an offset beyond any page is an
// empty page, not a validation error.
func TestOffsetPastTheEndIsAnEmptyPage(t *testing.T) {
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	s.mustCreate(key, "", "Course")
	for _, off := range []string{"1000000000000", "2147483648", "9223372036854775807"} {
		r := s.call(http.MethodGet, "/api/v1/nodes?offset="+off, key, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("offset %s: %d %s", off, r.Status, r.Raw)
		}
		var page struct {
			Items  []any `json:"items"`
			Total  int   `json:"total"`
			Offset int64 `json:"offset"`
		}
		mustJSON(t, r.Raw, &page)
		if len(page.Items) != 0 || page.Total != 1 || fmt.Sprint(page.Offset) != off {
			t.Fatalf("offset %s: %s", off, r.Raw)
		}
	}
}

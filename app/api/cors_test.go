package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/api"
	"github.com/course-supporter/course-supporter/app/logging"
)

const allowedOrigin = "https://app.example.com"

// corsDefaults are the configuration defaults (docs/design/api.md,
// "CORS") with one origin.
func corsDefaults() api.CORSOptions {
	return api.CORSOptions{
		AllowedOrigins: []string{allowedOrigin},
		AllowedMethods: []string{"GET", "POST", "PATCH", "DELETE"},
		AllowedHeaders: []string{"Content-Type", "X-API-Key", "X-Request-ID"},
		ExposedHeaders: []string{"Retry-After", "X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
		MaxAge:         600,
	}
}

func corsServer(t *testing.T, cors api.CORSOptions) *api.Server {
	t.Helper()
	log := logging.New(io.Discard, logging.Options{Format: "json", Level: "error"})
	return api.New(api.Deps{Log: log}, api.Options{Version: "test", JSONBodyMax: 1 << 20, CORS: cors})
}

func corsDo(t *testing.T, s *api.Server, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.App().Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// preflight is what a browser sends before a cross-origin PATCH or DELETE
// with the X-API-Key header. The path is a business route, which needs a
// key: only a preflight answered before auth can succeed without one.
func preflight(origin, method string) *http.Request {
	req := httptest.NewRequest(http.MethodOptions, "/api/v1/nodes/0190b7d6-35a3-7c8e-a5e1-6f1d2c3b4a59", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-api-key")
	return req
}

// listHas reports whether a comma-separated header value holds want
// (case-insensitively, as header names and methods compare).
func listHas(list, want string) bool {
	for _, v := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(v), want) {
			return true
		}
	}
	return false
}

func varyHas(resp *http.Response, want string) bool {
	for _, v := range resp.Header.Values("Vary") {
		if listHas(v, want) {
			return true
		}
	}
	return false
}

func corsHeaders(resp *http.Response) []string {
	var out []string
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			out = append(out, k)
		}
	}
	return out
}

// Ensure a preflight from an allowed origin for PATCH and DELETE with
// X-API-Key is answered 204 before auth, echoing the origin, with the
// methods, headers, max-age and Vary: Origin.
func TestCORSPreflightAllowed(t *testing.T) {
	s := corsServer(t, corsDefaults())
	for _, method := range []string{http.MethodPatch, http.MethodDelete} {
		resp, body := corsDo(t, s, preflight(allowedOrigin, method))
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("%s: got %d %q, want 204 with no body (answered before auth)", method, resp.StatusCode, body)
		}
		if got := h.Get("Access-Control-Allow-Origin"); got != allowedOrigin {
			t.Errorf("%s: Allow-Origin %q, want the request's origin", method, got)
		}
		if m := h.Get("Access-Control-Allow-Methods"); !listHas(m, method) || !listHas(m, "PATCH") || !listHas(m, "DELETE") {
			t.Errorf("%s: Allow-Methods %q", method, m)
		}
		if a := h.Get("Access-Control-Allow-Headers"); !listHas(a, "X-API-Key") || !listHas(a, "Content-Type") {
			t.Errorf("%s: Allow-Headers %q", method, a)
		}
		if got := h.Get("Access-Control-Max-Age"); got != "600" {
			t.Errorf("%s: Max-Age %q", method, got)
		}
		if !varyHas(resp, "Origin") {
			t.Errorf("%s: Vary %q lacks Origin", method, h.Values("Vary"))
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: credentials are off by default", method)
		}
	}
}

// Ensure PATCH and DELETE are allowed even when the methods are left empty
// (the defaults of docs/design/api.md apply).
func TestCORSPreflightDefaultMethods(t *testing.T) {
	s := corsServer(t, api.CORSOptions{AllowedOrigins: []string{allowedOrigin}})
	resp, _ := corsDo(t, s, preflight(allowedOrigin, http.MethodDelete))
	m := resp.Header.Get("Access-Control-Allow-Methods")
	for _, want := range []string{"GET", "POST", "PATCH", "DELETE"} {
		if !listHas(m, want) {
			t.Errorf("Allow-Methods %q lacks %s", m, want)
		}
	}
	if a := resp.Header.Get("Access-Control-Allow-Headers"); !listHas(a, "X-API-Key") {
		t.Errorf("Allow-Headers %q lacks X-API-Key", a)
	}
}

// Ensure origins match exactly: another scheme, port, subdomain or suffix
// gets no Access-Control-Allow-Origin (nor any other CORS grant), on a
// preflight and on a normal request.
func TestCORSRefusedOrigin(t *testing.T) {
	s := corsServer(t, corsDefaults())
	for _, origin := range []string{
		"https://evil.example.com",
		"http://app.example.com",
		"https://app.example.com:8443",
		"https://app.example.com.evil.io",
		"https://xapp.example.com",
		"null",
	} {
		resp, _ := corsDo(t, s, preflight(origin, http.MethodPatch))
		if got := corsHeaders(resp); len(got) != 0 {
			t.Errorf("preflight from %s got %v", origin, got)
		}
		req := httptest.NewRequest(http.MethodGet, "/livez", nil)
		req.Header.Set("Origin", origin)
		resp, _ = corsDo(t, s, req)
		if got := corsHeaders(resp); len(got) != 0 || resp.StatusCode != http.StatusOK {
			t.Errorf("GET from %s got %d %v", origin, resp.StatusCode, got)
		}
		if !varyHas(resp, "Origin") {
			t.Errorf("GET from %s: Vary %q lacks Origin", origin, resp.Header.Values("Vary"))
		}
	}
}

// Ensure a normal request from an allowed origin gets Allow-Origin and
// Expose-Headers (and Allow-Credentials only when configured) and still
// reaches its handler.
func TestCORSSimpleRequest(t *testing.T) {
	for _, creds := range []bool{false, true} {
		opts := corsDefaults()
		opts.AllowCredentials = creds
		s := corsServer(t, opts)
		req := httptest.NewRequest(http.MethodGet, "/livez", nil)
		req.Header.Set("Origin", allowedOrigin)
		resp, body := corsDo(t, s, req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		h := resp.Header
		if got := h.Get("Access-Control-Allow-Origin"); got != allowedOrigin {
			t.Errorf("creds=%v: Allow-Origin %q", creds, got)
		}
		exposed := h.Get("Access-Control-Expose-Headers")
		for _, want := range opts.ExposedHeaders {
			if !listHas(exposed, want) {
				t.Errorf("creds=%v: Expose-Headers %q lacks %s", creds, exposed, want)
			}
		}
		if got, want := h.Get("Access-Control-Allow-Credentials"), map[bool]string{true: "true"}[creds]; got != want {
			t.Errorf("creds=%v: Allow-Credentials %q, want %q", creds, got, want)
		}
		if h.Get("Access-Control-Allow-Methods") != "" || h.Get("Access-Control-Max-Age") != "" {
			t.Errorf("creds=%v: preflight-only headers on a normal response", creds)
		}
		if !varyHas(resp, "Origin") {
			t.Errorf("creds=%v: Vary %q lacks Origin", creds, h.Values("Vary"))
		}
	}
}

// Ensure "*" allows any origin with the literal "*" (never with
// credentials), and that configured origins are normalised (case, trailing
// slash) to the form browsers send.
func TestCORSWildcardAndNormalisedOrigins(t *testing.T) {
	s := corsServer(t, api.CORSOptions{AllowedOrigins: []string{"*"}, AllowCredentials: true})
	resp, _ := corsDo(t, s, preflight("https://anyone.test", http.MethodPatch))
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("wildcard preflight: %d %q", resp.StatusCode, got)
	}
	if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatal("credentials must never accompany *")
	}

	s = corsServer(t, api.CORSOptions{AllowedOrigins: []string{" https://App.Example.com/ "}})
	req := httptest.NewRequest(http.MethodGet, "/livez", nil)
	req.Header.Set("Origin", allowedOrigin)
	resp, _ = corsDo(t, s, req)
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != allowedOrigin {
		t.Fatalf("normalised origin: Allow-Origin %q", got)
	}
}

// Ensure that with no origins configured (the default) no response carries
// any CORS header, and a preflight is not answered by the middleware.
func TestCORSDisabledByDefault(t *testing.T) {
	opts := corsDefaults()
	opts.AllowedOrigins = nil
	for _, s := range []*api.Server{corsServer(t, opts), corsServer(t, api.CORSOptions{})} {
		resp, _ := corsDo(t, s, preflight(allowedOrigin, http.MethodPatch))
		if got := corsHeaders(resp); len(got) != 0 {
			t.Errorf("preflight got %v", got)
		}
		if resp.StatusCode == http.StatusNoContent {
			t.Error("preflight answered although CORS is off")
		}
		req := httptest.NewRequest(http.MethodGet, "/livez", nil)
		req.Header.Set("Origin", allowedOrigin)
		resp, _ = corsDo(t, s, req)
		if got := corsHeaders(resp); len(got) != 0 {
			t.Errorf("GET got %v", got)
		}
	}
}

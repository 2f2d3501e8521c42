package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// refPattern finds every URL the page references from a tag attribute.
var refPattern = regexp.MustCompile(`(?i)<(script|link|img|iframe|base)\b[^>]*?\s(?:src|href)\s*=\s*["']([^"']*)["']`)

// wantType maps asset extensions to the content type they must be served with.
var wantType = map[string]string{
	".js":  "text/javascript",
	".css": "text/css",
	".png": "image/png",
}

func docsGet(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	s, _ := newServer(t)
	return corsDo(t, s, httptest.NewRequest(http.MethodGet, path, nil))
}

func mediaType(resp *http.Response) string {
	ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(ct)
}

// Ensure /docs is the Swagger UI page: HTML, a same-origin-only CSP, no
// reference to another host, and every asset it references (resolved as a
// browser resolves it from /docs) answers 200 with the right content type
// and a Cache-Control.
func TestDocsPage(t *testing.T) {
	resp, body := docsGet(t, "/docs")
	if resp.StatusCode != http.StatusOK || mediaType(resp) != "text/html" {
		t.Fatalf("GET /docs: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(body)
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, `"//`) {
		t.Fatal("the page references an external host")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "img-src 'self' data:", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "*") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows more than this origin", csp)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("security headers missing on /docs")
	}

	refs := refPattern.FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("found only %d references in %s", len(refs), page)
	}
	base, _ := url.Parse("http://api.test/docs")
	seen := map[string]bool{}
	for _, m := range refs {
		ref, err := url.Parse(m[2])
		if err != nil {
			t.Fatalf("bad reference %q: %v", m[2], err)
		}
		if ref.IsAbs() || ref.Host != "" {
			t.Errorf("<%s> references another host: %q", m[1], m[2])
			continue
		}
		abs := base.ResolveReference(ref)
		seen[abs.Path] = true
		aresp, abody := docsGet(t, abs.Path)
		ext := abs.Path[strings.LastIndex(abs.Path, "."):]
		if aresp.StatusCode != http.StatusOK || len(abody) == 0 {
			t.Errorf("%s: %d (%d bytes)", abs.Path, aresp.StatusCode, len(abody))
		}
		if got := mediaType(aresp); got != wantType[ext] {
			t.Errorf("%s: Content-Type %q, want %q", abs.Path, got, wantType[ext])
		}
		if cc := aresp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Errorf("%s: Cache-Control %q", abs.Path, cc)
		}
	}
	for _, want := range []string{"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/init.js"} {
		if !seen[want] {
			t.Errorf("the page does not load %s", want)
		}
	}
}

// Ensure our initializer points Swagger UI at this service's document and
// loads nothing from another host (no validator badge).
func TestDocsInitializer(t *testing.T) {
	resp, body := docsGet(t, "/docs/init.js")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("init.js: %d", resp.StatusCode)
	}
	js := string(body)
	if strings.Contains(js, "http://") || strings.Contains(js, "https://") {
		t.Fatal("init.js references an external host")
	}
	spec := regexp.MustCompile(`url:\s*"([^"]+)"`).FindStringSubmatch(js)
	base, _ := url.Parse("http://api.test/docs")
	if spec == nil {
		t.Fatal("init.js sets no url")
	}
	ref, _ := url.Parse(spec[1])
	if got := base.ResolveReference(ref).Path; got != "/openapi.json" {
		t.Fatalf("Swagger UI loads %q, want /openapi.json", got)
	}
	if !strings.Contains(js, "validatorUrl: null") {
		t.Fatal("the default validator loads an image from validator.swagger.io")
	}
}

// Ensure /docs/ sends the browser to /docs (where the relative asset paths
// resolve) and that unknown, non-asset or traversal paths are 404.
func TestDocsPaths(t *testing.T) {
	resp, _ := docsGet(t, "/docs/")
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusMovedPermanently || err != nil {
		t.Fatalf("/docs/: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := (&url.URL{Path: "/docs/"}).ResolveReference(loc).Path; got != "/docs" {
		t.Fatalf("/docs/ redirects to %q", got)
	}
	for _, p := range []string{"/docs/nope.js", "/docs/LICENSE", "/docs/README.md", "/docs/index.html",
		"/docs/../go.mod", "/docs/%2e%2e/docs.go", "/docs/swaggerui/init.js"} {
		if resp, _ := docsGet(t, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// Ensure huma serves the OpenAPI 3.1 document the page loads.
func TestOpenAPIJSONServed(t *testing.T) {
	resp, body := docsGet(t, "/openapi.json")
	if resp.StatusCode != http.StatusOK || !strings.Contains(mediaType(resp), "json") {
		t.Fatalf("/openapi.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	if _, ok := doc["paths"].(map[string]any)["/livez"]; !ok {
		t.Fatal("the document lacks /livez")
	}
}

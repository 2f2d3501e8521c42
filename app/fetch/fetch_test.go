package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/fetch"
)

const forbiddenMsg = "Destination address is not allowed"

// fakeResolver answers from a table and records every lookup. A name with
// several answer sets returns them in turn (the last one repeats), which
// models a DNS answer that changes between lookups (rebinding).
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]string
	lookups []string
}

func newResolver(m map[string][][]string) *fakeResolver { return &fakeResolver{answers: m} }

func (r *fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, h := range r.lookups {
		if h == host {
			n++
		}
	}
	r.lookups = append(r.lookups, host)
	sets, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	set := sets[min(n, len(sets)-1)]
	out := make([]net.IPAddr, 0, len(set))
	for _, s := range set {
		a := netip.MustParseAddr(s)
		out = append(out, net.IPAddr{IP: a.AsSlice(), Zone: a.Zone()})
	}
	return out, nil
}

func (r *fakeResolver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lookups)
}

// dialLog records every address the fetcher dials.
type dialLog struct {
	mu    sync.Mutex
	addrs []netip.AddrPort
}

func (d *dialLog) hook(ap netip.AddrPort) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addrs = append(d.addrs, ap)
}

func (d *dialLog) list() []netip.AddrPort {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]netip.AddrPort(nil), d.addrs...)
}

func serverPort(t *testing.T, srv *httptest.Server) int {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, int, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, serverPort(t, srv), &hits
}

func html(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}
}

func only127(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") }

// wantDomain asserts err is a *course.Error with code EINVALID and message msg.
func wantDomain(t *testing.T, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %q", msg)
	}
	var ce *course.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want domain error %q", err, err, msg)
	}
	if ce.Code != course.EINVALID || ce.Message != msg {
		t.Fatalf("err = %s/%q, want %s/%q", ce.Code, ce.Message, course.EINVALID, msg)
	}
}

func TestLoopbackServerRefusedByDefault(t *testing.T) {
	srv, port, hits := newServer(t, html("secret"))
	var dials dialLog
	f := fetch.New(fetch.WithOnDial(fetch.Options{AllowedPorts: []int{port}}, dials.hook))
	for _, u := range []string{srv.URL, fmt.Sprintf("http://localhost:%d/", port), fmt.Sprintf("http://[::1]:%d/", port)} {
		_, err := f.Get(context.Background(), u, nil)
		wantDomain(t, err, forbiddenMsg)
	}
	if hits.Load() != 0 || len(dials.list()) != 0 {
		t.Fatalf("hits = %d, dials = %v; want none", hits.Load(), dials.list())
	}
	// With the default ports the test server's random port is refused first.
	_, err := fetch.New(fetch.Options{}).Get(context.Background(), srv.URL, nil)
	wantDomain(t, err, fmt.Sprintf("Port %d is not allowed", port))
}

func TestForbiddenResolutionsNeverDial(t *testing.T) {
	ips := []string{
		"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254",
		"0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2001:db8::1",
	}
	for _, ip := range ips {
		t.Run(ip, func(t *testing.T) {
			res := newResolver(map[string][][]string{"evil.example": {{ip}}})
			var dials dialLog
			f := fetch.New(fetch.WithOnDial(fetch.Options{Resolver: res}, dials.hook))
			_, err := f.Get(context.Background(), "http://evil.example/", nil)
			wantDomain(t, err, forbiddenMsg)
			if res.count() != 1 {
				t.Fatalf("lookups = %d, want 1", res.count())
			}
			if d := dials.list(); len(d) != 0 {
				t.Fatalf("dialled %v", d)
			}
		})
	}
}

func TestMixedAnswersRefused(t *testing.T) {
	res := newResolver(map[string][][]string{"mixed.example": {{"93.184.216.34", "10.0.0.1"}}})
	var dials dialLog
	f := fetch.New(fetch.WithOnDial(fetch.Options{Resolver: res}, dials.hook))
	_, err := f.Get(context.Background(), "http://mixed.example/", nil)
	wantDomain(t, err, forbiddenMsg)
	if d := dials.list(); len(d) != 0 {
		t.Fatalf("dialled %v", d)
	}
}

func TestLiteralAndNamedMetadataRefused(t *testing.T) {
	res := newResolver(nil)
	var dials dialLog
	f := fetch.New(fetch.WithOnDial(fetch.Options{Resolver: res}, dials.hook))
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data",
		"http://[::ffff:169.254.169.254]/latest/meta-data",
		"http://[fd00:ec2::254]/latest/meta-data",
		"http://[fe80::1%25eth0]/",
		"http://0.0.0.0/",
		"http://127.1.2.3/",
		"http://metadata.google.internal/computeMetadata/v1/",
		"http://LOCALHOST./",
		"http://app.localhost/",
	} {
		_, err := f.Get(context.Background(), u, nil)
		wantDomain(t, err, forbiddenMsg)
	}
	if res.count() != 0 || len(dials.list()) != 0 {
		t.Fatalf("lookups = %d, dials = %v; want none", res.count(), dials.list())
	}
}

func TestURLRules(t *testing.T) {
	res := newResolver(map[string][][]string{"good.example": {{"93.184.216.34"}}})
	var dials dialLog
	f := fetch.New(fetch.WithOnDial(fetch.Options{Resolver: res}, dials.hook))
	cases := map[string]string{
		"ftp://good.example/file":              "Only http and https URLs are allowed",
		"file:///etc/passwd":                   "Only http and https URLs are allowed",
		"gopher://good.example:70/":            "Only http and https URLs are allowed",
		"http://user:pass@good.example/":       "URLs with user info are not allowed",
		"http://user@good.example/":            "URLs with user info are not allowed",
		"http://good.example:22/":              "Port 22 is not allowed",
		"https://good.example:8443/":           "Port 8443 is not allowed",
		"http://good.example:0/":               "Invalid URL",
		"http:///path":                         "Invalid URL",
		"http://[::1/":                         "Invalid URL",
		"good.example/no-scheme":               "Only http and https URLs are allowed",
		"http://good.example:99999999999999/x": "Invalid URL",
	}
	for u, msg := range cases {
		_, err := f.Get(context.Background(), u, nil)
		wantDomain(t, err, msg)
	}
	if res.count() != 0 || len(dials.list()) != 0 {
		t.Fatalf("lookups = %d, dials = %v; want none", res.count(), dials.list())
	}
}

func TestSuccess(t *testing.T) {
	const page = "<html><body>hello</body></html>"
	var ua atomic.Value
	srv, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		html(page)(w, r)
	})
	_ = srv
	res := newResolver(map[string][][]string{"good.example": {{"127.0.0.1"}}})
	var dials dialLog
	f := fetch.New(fetch.WithOnDial(fetch.Options{
		AllowPrivate: true, Resolver: res, AllowedPorts: []int{port}, UserAgent: "CourseSupporter/test",
	}, dials.hook))
	u := fmt.Sprintf("http://good.example:%d/page?q=1", port)
	r, err := f.Get(context.Background(), u, fetch.AcceptWeb)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(page))
	if string(r.Body) != page || r.SHA256 != hex.EncodeToString(sum[:]) || r.FinalURL != u ||
		r.ContentType != "text/html; charset=utf-8" {
		t.Fatalf("result = %+v", r)
	}
	if ua.Load() != "CourseSupporter/test" {
		t.Fatalf("User-Agent = %v", ua.Load())
	}
	// The dial went to the resolved IP literal, not to the name.
	if d := dials.list(); len(d) != 1 || d[0] != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)) {
		t.Fatalf("dials = %v", d)
	}
}

func TestDefaultUserAgent(t *testing.T) {
	var ua atomic.Value
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		html("x")(w, r)
	})
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}})
	if _, err := f.Get(context.Background(), fmt.Sprintf("http://127.0.0.1:%d/", port), nil); err != nil {
		t.Fatal(err)
	}
	if ua.Load() != fetch.DefaultUserAgent {
		t.Fatalf("User-Agent = %v", ua.Load())
	}
}

func TestRedirectHopsAreChecked(t *testing.T) {
	targets := map[string]string{
		"/metadata":  "http://169.254.169.254/latest/meta-data",
		"/mapped":    "http://[::ffff:127.0.0.1]:%d/",
		"/private":   "http://private.example:%d/",
		"/localhost": "http://localhost:%d/",
		"/port22":    "http://good.example:22/",
		"/ftp":       "ftp://good.example/",
		"/userinfo":  "http://user:pass@good.example:%d/",
	}
	var port int
	srv, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if tgt, ok := targets[r.URL.Path]; ok {
			if strings.Contains(tgt, "%d") {
				tgt = fmt.Sprintf(tgt, port)
			}
			http.Redirect(w, r, tgt, http.StatusFound)
			return
		}
		html("reached "+r.URL.Path)(w, r)
	})
	_ = srv
	res := newResolver(map[string][][]string{
		"good.example":    {{"127.0.0.1"}},
		"private.example": {{"10.0.0.1"}},
	})
	var dials dialLog
	o := fetch.Options{Resolver: res, AllowedPorts: []int{80, port}}
	f := fetch.New(fetch.WithOnDial(fetch.WithAllowAddr(o, only127), dials.hook))

	// The first hop is allowed (127.0.0.1 via the test exception) ...
	if r, err := f.Get(context.Background(), fmt.Sprintf("http://good.example:%d/ok", port), nil); err != nil || string(r.Body) != "reached /ok" {
		t.Fatalf("allowed hop: %v %v", r, err)
	}
	// ... and every second hop is judged on its own.
	want := map[string]string{
		"/metadata":  forbiddenMsg,
		"/mapped":    "", // ::ffff:127.0.0.1 is 127.0.0.1, which the test exception allows
		"/private":   forbiddenMsg,
		"/localhost": forbiddenMsg,
		"/port22":    "Port 22 is not allowed",
		"/ftp":       "Only http and https URLs are allowed",
		"/userinfo":  "URLs with user info are not allowed",
	}
	for path, msg := range want {
		_, err := f.Get(context.Background(), fmt.Sprintf("http://good.example:%d%s", port, path), nil)
		if msg == "" {
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			continue
		}
		wantDomain(t, err, msg)
	}
	for _, d := range dials.list() {
		if d.Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Fatalf("dialled %v", d)
		}
	}
}

func TestDNSRebindingBetweenHops(t *testing.T) {
	var port int
	srv, port, hits := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			// Close the connection so the next hop must dial (and resolve) again.
			w.Header().Set("Connection", "close")
			http.Redirect(w, r, fmt.Sprintf("http://rebind.example:%d/next", port), http.StatusFound)
			return
		}
		html("should not be reached")(w, r)
	})
	_ = srv
	res := newResolver(map[string][][]string{"rebind.example": {{"127.0.0.1"}, {"169.254.169.254"}}})
	var dials dialLog
	o := fetch.WithOnDial(fetch.WithAllowAddr(fetch.Options{Resolver: res, AllowedPorts: []int{port}}, only127), dials.hook)
	_, err := fetch.New(o).Get(context.Background(), fmt.Sprintf("http://rebind.example:%d/", port), nil)
	wantDomain(t, err, forbiddenMsg)
	if res.count() != 2 || hits.Load() != 1 {
		t.Fatalf("lookups = %d, hits = %d; want 2, 1", res.count(), hits.Load())
	}
	if d := dials.list(); len(d) != 1 || d[0].Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("dials = %v", d)
	}
}

func TestDNSRebindingWithinOneConnection(t *testing.T) {
	// One lookup per connection: the answer checked is the address dialled,
	// so a second (rebound) answer is never consulted for that connection.
	_, port, _ := newServer(t, html("ok"))
	res := newResolver(map[string][][]string{"rebind.example": {{"127.0.0.1"}, {"10.0.0.1"}}})
	var dials dialLog
	o := fetch.WithOnDial(fetch.WithAllowAddr(fetch.Options{Resolver: res, AllowedPorts: []int{port}}, only127), dials.hook)
	r, err := fetch.New(o).Get(context.Background(), fmt.Sprintf("http://rebind.example:%d/", port), nil)
	if err != nil || string(r.Body) != "ok" {
		t.Fatalf("%v %v", r, err)
	}
	if res.count() != 1 || len(dials.list()) != 1 || dials.list()[0].Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("lookups = %d, dials = %v", res.count(), dials.list())
	}
	// A fresh connection resolves again and is refused on the new answer.
	_, err = fetch.New(o).Get(context.Background(), fmt.Sprintf("http://rebind.example:%d/", port), nil)
	wantDomain(t, err, forbiddenMsg)
	if len(dials.list()) != 1 {
		t.Fatalf("dials = %v", dials.list())
	}
}

func TestRedirectLimit(t *testing.T) {
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		if err != nil || n == 0 {
			html("done")(w, r)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/r/%d", n-1), http.StatusFound)
	})
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	r, err := f.Get(context.Background(), base+"/r/5", nil)
	if err != nil || string(r.Body) != "done" || r.FinalURL != base+"/r/0" {
		t.Fatalf("5 redirects: %+v %v", r, err)
	}
	_, err = f.Get(context.Background(), base+"/r/6", nil)
	wantDomain(t, err, "Too many redirects")

	none := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}, MaxRedirects: -1})
	_, err = none.Get(context.Background(), base+"/r/1", nil)
	wantDomain(t, err, "Too many redirects")
}

func TestBodyLimit(t *testing.T) {
	const limit = 1000
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(make([]byte, 100*limit))
	_ = zw.Close()
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		switch r.URL.Path {
		case "/exact":
			_, _ = w.Write(bytes.Repeat([]byte("a"), limit))
		case "/chunked":
			for range limit + 1 {
				_, _ = w.Write([]byte("a"))
				if r.URL.Query().Get("flush") != "" {
					w.(http.Flusher).Flush()
				}
			}
			w.(http.Flusher).Flush()
		case "/length":
			w.Header().Set("Content-Length", strconv.Itoa(limit+1))
			_, _ = w.Write(bytes.Repeat([]byte("a"), limit+1))
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz.Bytes())
		}
	})
	if gz.Len() >= limit {
		t.Fatalf("gzip body %d bytes is not below the limit", gz.Len())
	}
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}, MaxBytes: limit})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	r, err := f.Get(context.Background(), base+"/exact", nil)
	if err != nil || len(r.Body) != limit {
		t.Fatalf("exact: %v", err)
	}
	for _, p := range []string{"/chunked", "/chunked?flush=1", "/length", "/gzip"} {
		_, err := f.Get(context.Background(), base+p, nil)
		wantDomain(t, err, "Response too large")
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/slow-body" {
			_, _ = w.Write([]byte("<html>"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}, Timeout: 200 * time.Millisecond})
	for _, p := range []string{"/slow-headers", "/slow-body"} {
		start := time.Now()
		_, err := f.Get(context.Background(), fmt.Sprintf("http://127.0.0.1:%d%s", port, p), nil)
		if err == nil {
			t.Fatalf("%s: no error", p)
		}
		if course.ErrorCode(err) != course.EINTERNAL || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: err = %v, want a wrapped deadline error", p, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("%s: took %v", p, d)
		}
	}
}

func TestContentType(t *testing.T) {
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/png":
			w.Header().Set("Content-Type", "image/png")
		case "/xhtml":
			w.Header().Set("Content-Type", "Application/XHTML+XML; charset=utf-8")
		case "/none":
			w.Header()["Content-Type"] = nil // no sniffing: no header at all
		case "/bad":
			w.Header().Set("Content-Type", "text/html; ;;=")
		case "/404":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
		case "/503":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = w.Write([]byte("\x89PNG..."))
	})
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	_, err := f.Get(context.Background(), base+"/png", fetch.AcceptWeb)
	wantDomain(t, err, "Unsupported content type 'image/png'")
	_, err = f.Get(context.Background(), base+"/none", fetch.AcceptWeb)
	wantDomain(t, err, "Response has no content type")
	_, err = f.Get(context.Background(), base+"/bad", fetch.AcceptWeb)
	wantDomain(t, err, "Unsupported content type")
	_, err = f.Get(context.Background(), base+"/404", fetch.AcceptWeb)
	wantDomain(t, err, "URL returned HTTP status 404")
	// A 5xx may go away: a plain (retryable) error, not a rule violation.
	_, err = f.Get(context.Background(), base+"/503", fetch.AcceptWeb)
	var ce *course.Error
	if err == nil || errors.As(err, &ce) {
		t.Fatalf("503: want a retryable non-domain error, got %v", err)
	}
	if _, err := f.Get(context.Background(), base+"/xhtml", fetch.AcceptWeb); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(context.Background(), base+"/png", nil); err != nil {
		t.Fatalf("nil accept: %v", err)
	}
}

func TestProxyEnvironmentIgnored(t *testing.T) {
	proxy, _, proxyHits := newServer(t, html("from proxy"))
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	_, port, _ := newServer(t, html("direct"))
	res := newResolver(map[string][][]string{"good.example": {{"127.0.0.1"}}})
	f := fetch.New(fetch.Options{AllowPrivate: true, Resolver: res, AllowedPorts: []int{port}})
	r, err := f.Get(context.Background(), fmt.Sprintf("http://good.example:%d/", port), nil)
	if err != nil || string(r.Body) != "direct" || proxyHits.Load() != 0 {
		t.Fatalf("r = %v, err = %v, proxy hits = %d", r, err, proxyHits.Load())
	}
}

func TestTLSVerified(t *testing.T) {
	srv := httptest.NewUnstartedServer(html("secure"))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := serverPort(t, srv)
	// httptest's certificate is valid for example.com.
	res := newResolver(map[string][][]string{"example.com": {{"127.0.0.1"}}})
	u := fmt.Sprintf("https://example.com:%d/", port)
	o := fetch.WithAllowAddr(fetch.Options{Resolver: res, AllowedPorts: []int{port}}, only127)

	_, err := fetch.New(o).Get(context.Background(), u, nil)
	var unknown x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &unknown) {
		t.Fatalf("untrusted certificate: err = %v", err)
	}

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	trusted := fetch.WithTLSConfig(o, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	r, err := fetch.New(trusted).Get(context.Background(), u, nil)
	if err != nil || string(r.Body) != "secure" {
		t.Fatalf("trusted: %v %v", r, err)
	}
}

func TestResolverFailureIsNotDomainError(t *testing.T) {
	f := fetch.New(fetch.Options{Resolver: newResolver(nil)})
	_, err := f.Get(context.Background(), "http://nxdomain.example/", nil)
	var dnsErr *net.DNSError
	if course.ErrorCode(err) != course.EINTERNAL || !errors.As(err, &dnsErr) {
		t.Fatalf("err = %v", err)
	}
}

// Ensure a long download with a short stall timeout goes on while bytes
// keep coming, and is cut off soon after they stop.
func TestStallTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		for i := 0; i < 6; i++ { // 600 ms of steady bytes: longer than the stall timeout
			_, _ = w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		if r.URL.Path == "/stalls" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	})
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}, Timeout: time.Minute, StallTimeout: 300 * time.Millisecond})
	var buf bytes.Buffer
	res, err := f.Download(context.Background(), fmt.Sprintf("http://127.0.0.1:%d/steady", port), nil, &buf)
	if err != nil || res.Size != 60 || buf.Len() != 60 {
		t.Fatalf("steady: %v %+v", err, res)
	}
	start := time.Now()
	_, err = f.Download(context.Background(), fmt.Sprintf("http://127.0.0.1:%d/stalls", port), nil, io.Discard)
	if err == nil || course.ErrorCode(err) != course.EINTERNAL {
		t.Fatalf("stalled body: want a retryable error, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stalled body took %v", d)
	}
}

// Ensure a failing fetch does not put the URL's query (a presigned
// link's signature) into the error, which is logged.
func TestErrorsOmitTheQuery(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close() // nothing listens: connection refused
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}})
	_, err = f.Get(context.Background(), fmt.Sprintf("http://127.0.0.1:%d/f.mp4?X-Amz-Signature=s3cr3t", port), nil)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %v", err)
	}
}

// Package fetch is the one way the service fetches user-supplied URLs (web
// pages for ingestion, later video URLs). It enforces the outbound rules of
// the specification (docs/design/jobs.md, "Ingest"): http/https only, no user-info, allowed
// ports only, a bounded number of redirects, a total timeout, a body cap and
// an accepted-content-type check, and above all SSRF protection: the
// destination address is checked at connect time on the IP that is actually
// dialled, for the first request and for every redirect, so DNS rebinding
// cannot slip a private address past the check.
package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBytes     = 10 << 20
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "CourseSupporter"
)

// Client-safe messages of the domain errors.
const (
	msgForbiddenAddr = "Destination address is not allowed"
	msgTooManyRedir  = "Too many redirects"
	msgTooLarge      = "Response too large"
	msgInvalidURL    = "Invalid URL"
)

// Resolver resolves host names; *net.Resolver implements it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Options configure a Fetcher. Zero values take the defaults noted per field.
type Options struct {
	// Timeout bounds the whole fetch: connect, redirects and body (30 s).
	Timeout time.Duration
	// StallTimeout bounds the connect, the wait for response headers and
	// every pause between body bytes (default: Timeout). A large download
	// gets a long Timeout and a short StallTimeout, so a server that goes
	// quiet cannot hold a worker for the whole Timeout.
	StallTimeout time.Duration
	// MaxBytes caps the body after decompression (10 MiB); a larger body is
	// an error, never silently truncated.
	MaxBytes int64
	// MinBytesPerSec is the slowest average transfer accepted once
	// StallTimeout has passed (0: none). It also bounds the whole fetch:
	// Timeout is lowered to StallTimeout + MaxBytes/MinBytesPerSec. A fetch
	// below it fails with a client-safe (permanent) error, so a server
	// trickling a byte at a time cannot hold a worker for Timeout.
	MinBytesPerSec int64
	// MaxRedirects is the number of redirects followed (5). A negative value
	// means none.
	MaxRedirects int
	// AllowedPorts are the destination ports allowed (80, 443).
	AllowedPorts []int
	// AllowPrivate disables the address and host-name checks. Tests only;
	// it must never be true in production.
	AllowPrivate bool
	// Resolver resolves host names (net.DefaultResolver).
	Resolver Resolver
	// UserAgent is sent with every request ("CourseSupporter").
	UserAgent string

	// allowAddr, when set (tests only, see export_test.go), allows an
	// address IsForbidden would refuse.
	allowAddr func(netip.Addr) bool
	// onDial, when set (tests only), observes every address dialled.
	onDial func(netip.AddrPort)
	// tlsConfig, when set (tests only), replaces the TLS client config.
	tlsConfig *tls.Config
}

// Result is a fetched response.
type Result struct {
	// FinalURL is the URL after redirects.
	FinalURL string
	// ContentType is the response Content-Type header as sent (with
	// parameters such as charset).
	ContentType string
	// Body is the complete (decompressed) body.
	Body []byte
	// SHA256 is the lowercase hex SHA-256 of the body, Size its length.
	SHA256 string
	Size   int64
}

// Fetcher fetches user-supplied URLs safely. It is safe for concurrent use.
type Fetcher struct {
	o      Options
	client *http.Client
}

// AcceptWeb accepts the content types of web-page ingestion.
func AcceptWeb(mediaType string) bool {
	switch mediaType {
	case "text/html", "application/xhtml+xml", "text/plain":
		return true
	}
	return false
}

// New returns a Fetcher for o, filling in defaults.
func New(o Options) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.StallTimeout <= 0 || o.StallTimeout > o.Timeout {
		o.StallTimeout = o.Timeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	o.Timeout = rateDeadline(o)
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	} else if o.MaxRedirects < 0 {
		o.MaxRedirects = 0
	}
	if len(o.AllowedPorts) == 0 {
		o.AllowedPorts = []int{80, 443}
	} else {
		o.AllowedPorts = slices.Clone(o.AllowedPorts)
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	tlsConf := o.tlsConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	f := &Fetcher{o: o}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf and bypass the address checks
		DialContext:            f.dialContext,
		TLSClientConfig:        tlsConf,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  o.StallTimeout,
		IdleConnTimeout:        30 * time.Second,
		MaxIdleConns:           16,
		MaxResponseHeaderBytes: 1 << 20,
	}
	f.client = &http.Client{
		Transport:     tr,
		CheckRedirect: f.checkRedirect,
	}
	return f
}

// Get fetches rawURL with GET. accept receives the response's media type
// (lower case, without parameters) and decides whether it is wanted; nil
// accepts any type. Rule violations are *course.Error values with
// client-safe messages; network failures, timeouts and answers worth
// retrying (408, 429, 5xx) are wrapped errors.
func (f *Fetcher) Get(ctx context.Context, rawURL string, accept func(contentType string) bool) (*Result, error) {
	var buf bytes.Buffer
	res, err := f.Download(ctx, rawURL, accept, &buf)
	if err != nil {
		return nil, err
	}
	res.Body = buf.Bytes()
	return res, nil
}

// Download is Get streaming the body into w instead of memory (a media
// file can be as large as an upload). Result.Body stays nil; SHA256 and
// Size describe the bytes written.
func (f *Fetcher) Download(ctx context.Context, rawURL string, accept func(contentType string) bool, w io.Writer) (*Result, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, course.Errorf(course.EINVALID, msgInvalidURL)
	}
	if err := f.checkURL(u); err != nil {
		return nil, err
	}
	parent, started := ctx, time.Now()
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, course.Errorf(course.EINVALID, msgInvalidURL)
	}
	req.Header.Set("User-Agent", f.o.UserAgent)

	resp, err := f.client.Do(req)
	if err != nil {
		if slow := f.tooSlow(parent, ctx, started, 0); slow != nil {
			return nil, slow
		}
		return nil, domainOr(withoutURL(err), "fetch %s", u.Host)
	}
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if retryable(resp.StatusCode) {
			return nil, fmt.Errorf("fetch %s: HTTP status %d", u.Host, resp.StatusCode)
		}
		return nil, course.Errorf(course.EINVALID, "URL returned HTTP status %d", resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		if strings.TrimSpace(ct) == "" {
			return nil, course.Errorf(course.EINVALID, "Response has no content type")
		}
		return nil, course.Errorf(course.EINVALID, "Unsupported content type")
	}
	if accept != nil && !accept(mediaType) {
		return nil, course.Errorf(course.EINVALID, "Unsupported content type '%s'", truncate(mediaType, 100))
	}
	// Content-Length is dropped by the transport when it decompresses, so
	// this early refusal only applies to bodies sent as they are.
	if resp.ContentLength > f.o.MaxBytes {
		return nil, course.Errorf(course.EINVALID, msgTooLarge)
	}
	h := sha256.New()
	deadline, _ := ctx.Deadline()
	stalled := func() {
		// Past the deadline the fetch ends by it; cancelling as well would
		// race it and turn a timeout into a cancellation.
		if time.Now().Before(deadline) {
			cancel()
		}
	}
	body := &stallReader{r: resp.Body, stall: f.o.StallTimeout, timer: time.AfterFunc(f.o.StallTimeout, stalled),
		rate: f.meter(started)}
	defer body.timer.Stop()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(body, f.o.MaxBytes+1))
	if err != nil {
		if slow := f.tooSlow(parent, ctx, started, n); slow != nil {
			return nil, slow
		}
		return nil, domainOr(err, "read body from %s", resp.Request.URL.Host)
	}
	if n > f.o.MaxBytes {
		return nil, course.Errorf(course.EINVALID, msgTooLarge)
	}
	return &Result{
		FinalURL:    resp.Request.URL.String(),
		ContentType: ct,
		Size:        n,
		SHA256:      hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// stallReader cancels the request (through timer) when no byte arrives
// for stall, and fails a body whose average rate falls below the minimum.
type stallReader struct {
	r     io.Reader
	stall time.Duration
	timer *time.Timer
	rate  *meter // nil: no minimum rate
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.stall)
	}
	if s.rate != nil {
		if slow := s.rate.add(n); slow != nil {
			return n, slow
		}
	}
	return n, err
}

// withoutURL drops the request URL that *url.Error prints: a user's URL
// may carry credentials in its query (a presigned link), and the error
// ends up in logs.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// retryable reports whether an HTTP status may go away by itself.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// domainOr returns the *course.Error in err's chain as is, or err wrapped
// with context.
func domainOr(err error, format string, args ...any) error {
	var ce *course.Error
	if errors.As(err, &ce) {
		return ce
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// checkURL applies the rules that need no I/O to the first URL and to every
// redirect target: scheme, user-info, port, forbidden names and literal IPs.
func (f *Fetcher) checkURL(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
	default:
		return course.Errorf(course.EINVALID, "Only http and https URLs are allowed")
	}
	if u.User != nil {
		return course.Errorf(course.EINVALID, "URLs with user info are not allowed")
	}
	host := u.Hostname()
	if host == "" || u.Opaque != "" {
		return course.Errorf(course.EINVALID, msgInvalidURL)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return course.Errorf(course.EINVALID, msgInvalidURL)
		}
		port = n
	}
	if err := f.checkPort(port); err != nil {
		return err
	}
	if f.o.AllowPrivate {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !f.allowed(a) {
			return course.Errorf(course.EINVALID, msgForbiddenAddr)
		}
		return nil
	}
	if isForbiddenName(host) {
		return course.Errorf(course.EINVALID, msgForbiddenAddr)
	}
	return nil
}

func (f *Fetcher) checkPort(port int) error {
	if !slices.Contains(f.o.AllowedPorts, port) {
		return course.Errorf(course.EINVALID, "Port %d is not allowed", port)
	}
	return nil
}

func (f *Fetcher) allowed(a netip.Addr) bool {
	if f.o.AllowPrivate {
		return true
	}
	a = a.WithZone("").Unmap()
	if !IsForbidden(a) {
		return true
	}
	return f.o.allowAddr != nil && f.o.allowAddr(a)
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.o.MaxRedirects {
		return course.Errorf(course.EINVALID, msgTooManyRedir)
	}
	return f.checkURL(req.URL)
}

// dialContext resolves the host itself, refuses the connection if any
// resolved address is forbidden, and dials the checked IP literal, so no
// second resolution can happen between check and connect. The dialer's
// Control hook re-checks the address actually connected.
func (f *Fetcher) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port: %w", address, err)
	}
	if err := f.checkPort(int(port)); err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		if !f.o.AllowPrivate && isForbiddenName(host) {
			return nil, course.Errorf(course.EINVALID, msgForbiddenAddr)
		}
		ips, err := f.o.Resolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		for _, ip := range ips {
			a, ok := netip.AddrFromSlice(ip.IP)
			if !ok {
				return nil, course.Errorf(course.EINVALID, msgForbiddenAddr)
			}
			addrs = append(addrs, a.Unmap())
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	// One forbidden answer refuses the whole name: a mix of public and
	// private answers is a rebinding/poisoning signal, not a fallback.
	for _, a := range addrs {
		if !f.allowed(a) {
			return nil, course.Errorf(course.EINVALID, msgForbiddenAddr)
		}
	}
	d := &net.Dialer{Timeout: f.o.StallTimeout, Control: f.control}
	var firstErr error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.WithZone(""), uint16(port))
		if f.o.onDial != nil {
			f.o.onDial(ap)
		}
		conn, err := d.DialContext(ctx, network, ap.String())
		if err == nil {
			return conn, nil
		}
		var ce *course.Error
		if errors.As(err, &ce) {
			return nil, ce
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// control runs just before connect(2) on the address being connected.
func (f *Fetcher) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return course.Errorf(course.EINVALID, msgForbiddenAddr)
	}
	if err := f.checkPort(int(ap.Port())); err != nil {
		return err
	}
	if !f.allowed(ap.Addr()) {
		return course.Errorf(course.EINVALID, msgForbiddenAddr)
	}
	return nil
}

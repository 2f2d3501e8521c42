package objstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// newHTTPClient is the S3 clients' HTTP client. Its connections write a
// request body held in memory in one large write (bodyConn); wrap, when
// set, wraps the raw connection under that (tests count the writes).
func newHTTPClient(wrap func(net.Conn) net.Conn) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err //nolint:wrapcheck // net/http inspects the dial error
			}
			if wrap != nil {
				c = wrap(c)
			}
			return &bodyConn{Conn: c}, nil
		},
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}}
}

// bodyConn is a net.Conn whose ReadFrom writes an io.WriterTo body
// directly, so that a part reaches the socket in one large write.
//
// net/http copies a request body of known length through an
// io.LimitedReader into the connection's ReadFrom; *net.TCPConn then falls
// back to io.Copy with a 32 KiB buffer, so a 10 MiB part cost 320 write
// calls and a copy of every byte into that buffer (docs/performance.md,
// "Upload CPU"). A part body is a *bytes.Reader, which smithy-go's body
// wrapper keeps visible as an io.WriterTo: ReadFrom hands the socket the
// part itself. Over TLS the wrapper sits under crypto/tls and changes
// nothing.
type bodyConn struct {
	net.Conn
}

// errBodyTooLong reports a body longer than the length net/http announced;
// the request fails rather than send a truncated or overlong body.
var errBodyTooLong = errors.New("request body longer than its content length")

// ReadFrom implements io.ReaderFrom for net/http's body copy.
func (c *bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if wt, ok := lr.R.(io.WriterTo); ok {
			n, err := wt.WriteTo(&limitedWriter{w: c.Conn, n: lr.N})
			lr.N -= n
			return n, err //nolint:wrapcheck // net/http reports it as the write error
		}
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r) //nolint:wrapcheck // as above
	}
	return io.Copy(c.Conn, r) //nolint:wrapcheck // as above
}

// limitedWriter writes at most n bytes to w and fails past them.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	over := int64(len(p)) > l.n
	if over {
		p = p[:l.n]
	}
	n, err := l.w.Write(p)
	l.n -= int64(n)
	if err == nil && over {
		err = errBodyTooLong
	}
	return n, err //nolint:wrapcheck // as above
}

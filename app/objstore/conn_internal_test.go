package objstore

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// bufConn is a net.Conn that keeps what is written to it.
type bufConn struct {
	net.Conn
	buf bytes.Buffer
}

func (c *bufConn) Write(p []byte) (int, error) { return c.buf.Write(p) }

// A body longer than the announced length fails the request after exactly
// the announced bytes, and a body without WriteTo is copied as before.
func TestBodyConnReadFrom(t *testing.T) {
	t.Parallel()
	raw := &bufConn{}
	c := &bodyConn{Conn: raw}
	n, err := c.ReadFrom(&io.LimitedReader{R: bytes.NewReader([]byte("0123456789")), N: 4})
	if !errors.Is(err, errBodyTooLong) || n != 4 || raw.buf.String() != "0123" {
		t.Fatalf("overlong body: n %d, err %v, wrote %q", n, err, raw.buf.String())
	}
	raw.buf.Reset()
	n, err = c.ReadFrom(&io.LimitedReader{R: bytes.NewReader([]byte("0123")), N: 4})
	if err != nil || n != 4 || raw.buf.String() != "0123" {
		t.Fatalf("exact body: n %d, err %v, wrote %q", n, err, raw.buf.String())
	}
	raw.buf.Reset()
	n, err = c.ReadFrom(io.LimitReader(struct{ io.Reader }{bytes.NewReader([]byte("abcdef"))}, 3))
	if err != nil || n != 3 || raw.buf.String() != "abc" {
		t.Fatalf("plain reader: n %d, err %v, wrote %q", n, err, raw.buf.String())
	}
}

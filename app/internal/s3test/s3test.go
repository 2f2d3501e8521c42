// Package s3test runs an in-process S3 server (gofakes3) for unit and
// integration tests, with a bucket already created. It can be stopped and
// started again on the same address to simulate a storage outage.
package s3test

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials accepted by the fake (gofakes3 does not check signatures).
const (
	AccessKey = "test-access"
	SecretKey = "test-secret"
	Region    = "us-east-1"
)

// Server is a running fake S3.
type Server struct {
	URL     string
	Bucket  string
	Backend *s3mem.Backend
	addr    string
	handler http.Handler
	mu      sync.Mutex
	srv     *http.Server
}

// MustStart starts a fake S3 with one bucket; it stops when the test ends.
func MustStart(tb testing.TB, bucket string) *Server {
	tb.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	s := &Server{Bucket: bucket, Backend: backend, handler: gofakes3.New(backend).Server()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.serve(ln)
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := &http.Server{Handler: s.handler} //nolint:gosec // test server on loopback
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the listener and every connection: clients see refused
// connections, as with a stopped object store.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
	}
}

// Start listens again on the same address after Stop.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return errors.Join(errors.New("restart fake s3"), err)
	}
	s.serve(ln)
	return nil
}

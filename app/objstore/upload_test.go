package objstore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
)

// A stream that ends inside the first part buffer is one PutObject with the
// given content type; size and SHA-256 are the stream's; the object reads
// back byte for byte. Empty streams are stored as empty objects.
func TestUploadSmallIsOnePut(t *testing.T) {
	t.Parallel()
	for name, size := range map[string]int64{"small": 300 * 1024, "empty": 0, "one byte short of a part": 5*mib - 1} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := s3test.MustStart(t, "bucket")
			var puts, multipart atomic.Int32
			proxy := s3test.Proxy(t, fake.URL, func(_ http.ResponseWriter, r *http.Request) bool {
				q := r.URL.Query()
				switch {
				case r.Method == http.MethodPut && !q.Has("partNumber"):
					puts.Add(1)
				case q.Has("uploads") || q.Has("partNumber"):
					multipart.Add(1)
				}
				return false
			})
			s := newStore(t, fake, proxy)
			res, err := s.Upload(context.Background(), "t/a.md", "text/markdown", newPattern(size))
			if err != nil {
				t.Fatal(err)
			}
			if res.Size != size || res.SHA256 != patternSHA(size) {
				t.Fatalf("result %+v, want size %d sha %s", res, size, patternSHA(size))
			}
			if puts.Load() != 1 || multipart.Load() != 0 {
				t.Fatalf("%d puts, %d multipart requests; want one put", puts.Load(), multipart.Load())
			}
			sum, n, ct := stored(t, fake, "t/a.md")
			if sum != res.SHA256 || n != size || ct != "text/markdown" {
				t.Fatalf("stored %s %d %q", sum, n, ct)
			}
		})
	}
}

// Larger streams go multipart: full parts and a remainder, completed in
// order; the stored object is byte-identical to the stream, including at
// the part boundaries (exactly one, two parts, one byte over).
func TestUploadMultipart(t *testing.T) {
	t.Parallel()
	for name, size := range map[string]int64{
		"2.5 parts": 5*mib*2 + 5*mib/2, "exactly one part": 5 * mib, "exactly two parts": 10 * mib, "one byte over": 5*mib + 1,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := s3test.MustStart(t, "bucket")
			var parts atomic.Int32
			proxy := s3test.Proxy(t, fake.URL, func(_ http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
					parts.Add(1)
				}
				return false
			})
			s := newStore(t, fake, proxy)
			res, err := s.Upload(context.Background(), "t/v.mp4", "video/mp4", newPattern(size))
			if err != nil {
				t.Fatal(err)
			}
			if res.Size != size || res.SHA256 != patternSHA(size) {
				t.Fatalf("result %+v", res)
			}
			if want := (size + 5*mib - 1) / (5 * mib); int64(parts.Load()) != want {
				t.Fatalf("%d parts, want %d", parts.Load(), want)
			}
			sum, n, ct := stored(t, fake, "t/v.mp4")
			if sum != res.SHA256 || n != size || ct != "video/mp4" {
				t.Fatalf("stored %s %d %q", sum, n, ct)
			}
			if ups := fake.MultipartUploads(t); len(ups) != 0 {
				t.Fatalf("uploads in progress: %v", ups)
			}
		})
	}
}

var errClient = errors.New("client sent too much")

// An error of the reader (size limit, disconnect) comes back unchanged for
// errors.Is, and nothing is left: no object, no multipart upload. Inside
// the first buffer no request is made at all.
func TestUploadReaderFails(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		at       int64
		err      error
		requests bool
	}{
		"midway multipart":         {at: 7 * mib, err: errClient, requests: true},
		"truncated multipart body": {at: 12 * mib, err: io.ErrUnexpectedEOF, requests: true},
		"inside the first buffer":  {at: 1 * mib, err: errClient},
		"truncated small body":     {at: 100, err: io.ErrUnexpectedEOF},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := s3test.MustStart(t, "bucket")
			var requests atomic.Int32
			proxy := s3test.Proxy(t, fake.URL, func(http.ResponseWriter, *http.Request) bool { requests.Add(1); return false })
			s := newStore(t, fake, proxy)
			r := newPattern(64 * mib)
			r.at, r.after = tc.at, func() error { return tc.err }
			_, err := s.Upload(context.Background(), "t/x.txt", "text/plain", r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if course.ErrorCode(err) == course.EUNAVAILABLE {
				t.Fatalf("a reader error is not a storage error: %v", err)
			}
			if !tc.requests && requests.Load() != 0 {
				t.Fatalf("%d requests for a stream that failed in the first buffer", requests.Load())
			}
			assertNothingLeft(t, fake)
		})
	}
}

// A caller that goes away mid-upload (its context cancelled) still gets
// the multipart upload aborted: the abort runs on a context that is not
// cancelled.
func TestUploadCancelledAborts(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newPattern(64 * mib)
	r.at, r.after = 7*mib, func() error { cancel(); return nil }
	_, err := s.Upload(ctx, "t/x.mp4", "video/mp4", r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if r.off > 10*mib {
		t.Fatalf("read %d bytes after the cancellation at 7 MiB", r.off)
	}
	assertNothingLeft(t, fake)
}

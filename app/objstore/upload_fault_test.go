package objstore_test

import (
	"bytes"
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
)

// Storage failing on part 3 on every attempt: the part is tried 3 times,
// then Upload is EUNAVAILABLE with the client-safe message, and the
// multipart upload is aborted.
func TestUploadStorageFailsOnPart3(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	var tries atomic.Int32
	proxy := s3test.Proxy(t, fake.URL, func(w http.ResponseWriter, r *http.Request) bool {
		if isUploadPart(r, "3") {
			tries.Add(1)
			s3Error(w, r, http.StatusInternalServerError, "InternalError")
			return true
		}
		return false
	})
	s := newStore(t, fake, proxy)
	_, err := s.Upload(context.Background(), "t/x.mp4", "video/mp4", newPattern(23*mib))
	if course.ErrorCode(err) != course.EUNAVAILABLE || course.ErrorMessage(err) != "Storage unavailable" {
		t.Fatalf("err = %v (code %s)", err, course.ErrorCode(err))
	}
	if tries.Load() != 3 {
		t.Fatalf("part 3 tried %d times, want 3", tries.Load())
	}
	assertNothingLeft(t, fake)
}

// A part that fails twice is sent a third time from the in-memory buffer
// and the object is still byte-identical.
func TestUploadPartRetrySucceeds(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	var tries atomic.Int32
	proxy := s3test.Proxy(t, fake.URL, func(w http.ResponseWriter, r *http.Request) bool {
		if isUploadPart(r, "2") && tries.Add(1) <= 2 {
			s3Error(w, r, http.StatusServiceUnavailable, "SlowDown")
			return true
		}
		return false
	})
	s := newStore(t, fake, proxy)
	const size = 12 * mib
	res, err := s.Upload(context.Background(), "t/x.mp4", "video/mp4", newPattern(size))
	if err != nil {
		t.Fatal(err)
	}
	if tries.Load() != 3 {
		t.Fatalf("part 2 sent %d times, want 3", tries.Load())
	}
	if sum, n, _ := stored(t, fake, "t/x.mp4"); sum != patternSHA(size) || n != size || res.SHA256 != sum {
		t.Fatalf("stored %s %d, result %+v", sum, n, res)
	}
}

// A failing PutObject or CompleteMultipartUpload is EUNAVAILABLE and
// leaves nothing behind.
func TestUploadPutAndCompleteFail(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		size int64
		fail func(*http.Request) bool
	}{
		"put":      {size: 1000, fail: func(r *http.Request) bool { return r.Method == http.MethodPut && !r.URL.Query().Has("partNumber") }},
		"complete": {size: 7 * mib, fail: func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Query().Has("uploadId") }},
		"create":   {size: 7 * mib, fail: func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Query().Has("uploads") }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := s3test.MustStart(t, "bucket")
			proxy := s3test.Proxy(t, fake.URL, func(w http.ResponseWriter, r *http.Request) bool {
				if tc.fail(r) {
					s3Error(w, r, http.StatusInternalServerError, "InternalError")
					return true
				}
				return false
			})
			_, err := newStore(t, fake, proxy).Upload(context.Background(), "t/x.pdf", "application/pdf", newPattern(tc.size))
			if course.ErrorCode(err) != course.EUNAVAILABLE {
				t.Fatalf("err = %v", err)
			}
			assertNothingLeft(t, fake)
		})
	}
}

// With storage down, Upload is EUNAVAILABLE (not an internal error).
func TestUploadStorageDown(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	fake.Stop()
	for _, size := range []int64{10, 6 * mib} {
		_, err := s.Upload(context.Background(), "t/x", "text/plain", bytes.NewReader(make([]byte, size)))
		if course.ErrorCode(err) != course.EUNAVAILABLE {
			t.Fatalf("size %d: err = %v", size, err)
		}
	}
}

package objstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
)

// Delete sends batches of at most 1000 keys with DeleteObjects (quiet),
// with Content-MD5; absent keys are fine.
func TestDeleteBatches(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	var batches []int
	var md5 atomic.Int32
	proxy := s3test.Proxy(t, fake.URL, func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("delete") {
			b, _ := io.ReadAll(r.Body)
			if !bytes.Contains(b, []byte("<Quiet>true</Quiet>")) {
				t.Errorf("not quiet: %.200s", b)
			}
			if r.Header.Get("Content-MD5") != "" {
				md5.Add(1)
			}
			batches = append(batches, bytes.Count(b, []byte("<Object>")))
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		return false
	})
	s := newStore(t, fake, proxy)
	ctx := context.Background()
	var keys []string
	for i := range 2500 {
		keys = append(keys, fmt.Sprintf("k/%04d", i))
	}
	for _, k := range []string{"k/0000", "k/1500", "k/2499", "k/keep"} {
		if _, err := s.Upload(ctx, k, "text/plain", strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, keys...); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(batches) != "[1000 1000 500]" || md5.Load() != 3 {
		t.Fatalf("batches %v, %d with Content-MD5", batches, md5.Load())
	}
	if left := fake.Keys(t, "k/"); fmt.Sprint(left) != "[k/keep]" {
		t.Fatalf("left %v", left)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
}

// A server that refuses DeleteObjects itself gets one DeleteObject per key.
func TestDeleteFallsBackToSingleDeletes(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	var singles atomic.Int32
	proxy := s3test.Proxy(t, fake.URL, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("delete") {
			s3Error(w, r, http.StatusNotImplemented, "NotImplemented")
			return true
		}
		if r.Method == http.MethodDelete {
			singles.Add(1)
		}
		return false
	})
	s := newStore(t, fake, proxy)
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if _, err := s.Upload(ctx, k, "text/plain", strings.NewReader(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "a", "b", "absent"); err != nil {
		t.Fatal(err)
	}
	if singles.Load() != 3 || len(fake.Keys(t, "")) != 0 {
		t.Fatalf("%d single deletes, left %v", singles.Load(), fake.Keys(t, ""))
	}
}

// A key the server reports as not deleted, a failing server and a stopped
// one are all EUNAVAILABLE, so a cleanup job retries.
func TestDeleteErrors(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	var mode atomic.Int32
	proxy := s3test.Proxy(t, fake.URL, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !r.URL.Query().Has("delete") {
			return false
		}
		if mode.Load() == 0 {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult><Error><Key>b</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>`)
		} else {
			s3Error(w, r, http.StatusInternalServerError, "InternalError")
		}
		return true
	})
	s := newStore(t, fake, proxy)
	ctx := context.Background()
	for m := range int32(2) {
		mode.Store(m)
		if err := s.Delete(ctx, "a", "b"); course.ErrorCode(err) != course.EUNAVAILABLE {
			t.Fatalf("mode %d: %v", m, err)
		}
	}
	fake.Stop()
	if err := s.Delete(ctx, "a"); course.ErrorCode(err) != course.EUNAVAILABLE {
		t.Fatalf("stopped: %v", err)
	}
}

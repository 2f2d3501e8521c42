package objstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// The presigned URL points at the public endpoint, signs Content-Type and
// Content-Length, and a plain net/http PUT with the listed headers stores
// the object. Then Head, ReadPrefix, Delete and Head again (ENOTFOUND).
func TestPresignedPutAndObjectLifecycle(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	// The "public" endpoint is a proxy: another host:port than Endpoint.
	var viaPublic atomic.Int32
	public := s3test.Proxy(t, fake.URL, func(http.ResponseWriter, *http.Request) bool { viaPublic.Add(1); return false })
	s := objstore.New(objstore.Options{
		Endpoint: fake.URL, PublicEndpoint: public, Region: s3test.Region, AccessKey: s3test.AccessKey,
		SecretKey: s3test.SecretKey, Bucket: fake.Bucket, ForcePathStyle: true,
	})
	ctx := context.Background()
	body := []byte("%PDF-1.7 a small deck")
	key := "tenants/t1/nodes/n1/u1/deck.pdf"
	p, err := s.PresignPut(ctx, key, "application/pdf", int64(len(body)), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := url.Parse(public)
	signed := u.Query().Get("X-Amz-SignedHeaders")
	if u.Host != pub.Host || u.Path != "/bucket/"+key || u.Query().Get("X-Amz-Expires") != "900" ||
		!strings.Contains(signed, "content-type") || !strings.Contains(signed, "content-length") {
		t.Fatalf("url %s (signed headers %q)", p.URL, signed)
	}
	if p.Expires != 15*time.Minute || len(p.Headers) != 2 || p.Headers["Content-Type"] != "application/pdf" || p.Headers["Content-Length"] != fmt.Sprint(len(body)) {
		t.Fatalf("presigned %+v", p)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, p.URL, bytes.NewReader(body))
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || viaPublic.Load() != 1 {
		t.Fatalf("PUT: %d, %d requests via the public endpoint", resp.StatusCode, viaPublic.Load())
	}
	if _, _, ct := stored(t, fake, key); ct != "application/pdf" {
		t.Fatalf("content type %q", ct)
	}

	if size, err := s.Head(ctx, key); err != nil || size != int64(len(body)) {
		t.Fatalf("head: %d %v", size, err)
	}
	for n, want := range map[int64]string{5: "%PDF-", 4096: string(body), 0: ""} {
		if got, err := s.ReadPrefix(ctx, key, n); err != nil || string(got) != want {
			t.Fatalf("ReadPrefix(%d) = %q, %v", n, got, err)
		}
	}
	if err := s.Delete(ctx, key, "tenants/t1/never-existed"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, key); course.ErrorCode(err) != course.ENOTFOUND || course.ErrorMessage(err) != "Object not found" {
		t.Fatalf("head after delete: %v", err)
	}
	if _, err := s.ReadPrefix(ctx, key, 10); course.ErrorCode(err) != course.ENOTFOUND {
		t.Fatalf("read after delete: %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("deleting an absent key again: %v", err)
	}
}

// Without a size, only Content-Type is signed and required; without a
// public endpoint, URLs use Endpoint.
func TestPresignWithoutSize(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	p, err := s.PresignPut(context.Background(), "k/a.txt", "text/plain", 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.URL)
	f, _ := url.Parse(fake.URL)
	if u.Host != f.Host || len(p.Headers) != 1 || strings.Contains(u.Query().Get("X-Amz-SignedHeaders"), "content-length") {
		t.Fatalf("%+v", p)
	}
}

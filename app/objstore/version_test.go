package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
)

// A pinned read copies at most the confirmed size, and an object that
// grew or is another version is ErrObjectChanged.
func TestDownloadVersionNeverPastConfirmedSize(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	ctx := context.Background()
	if _, err := s.Upload(ctx, "k/a.txt", "text/plain", strings.NewReader("0123456789")); err != nil {
		t.Fatal(err)
	}
	v, err := s.Stat(ctx, "k/a.txt")
	if err != nil || v.Size != 10 || v.ETag == "" {
		t.Fatalf("stat %+v %v", v, err)
	}
	var buf bytes.Buffer
	if n, err := s.DownloadVersion(ctx, "k/a.txt", v, &buf); err != nil || n != 10 || buf.String() != "0123456789" {
		t.Fatalf("exact version: %d %q %v", n, buf.String(), err)
	}
	buf.Reset()
	n, err := s.DownloadVersion(ctx, "k/a.txt", course.ObjectVersion{Size: 4}, &buf)
	if !errors.Is(err, course.ErrObjectChanged) || n > 4 || buf.Len() > 4 {
		t.Fatalf("grown object: %d bytes %q, %v; want at most 4 bytes and ErrObjectChanged", n, buf.String(), err)
	}
	// Replaced under the same key (same size): the old ETag no longer reads.
	if _, err := s.Upload(ctx, "k/a.txt", "text/plain", strings.NewReader("abcdefghij")); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if _, err := s.DownloadVersion(ctx, "k/a.txt", v, &buf); !errors.Is(err, course.ErrObjectChanged) {
		t.Fatalf("replaced object: %q %v, want ErrObjectChanged", buf.String(), err)
	}
	if _, err := s.ReadVersionPrefix(ctx, "k/a.txt", v.ETag, 4); !errors.Is(err, course.ErrObjectChanged) {
		t.Fatalf("replaced object prefix: %v, want ErrObjectChanged", err)
	}
}

package objstore_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// An empty object has no prefix (its range is unsatisfiable): ReadPrefix
// returns no bytes rather than a storage error.
func TestReadPrefixOfEmptyObject(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	ctx := context.Background()
	if _, err := s.Upload(ctx, "k/empty.txt", "text/plain", bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadPrefix(ctx, "k/empty.txt", 4096); err != nil || len(b) != 0 {
		t.Fatalf("%q %v", b, err)
	}
}

// List follows every page (page size 2 here), returns only the prefix, in
// key order, with sizes.
func TestListPaginates(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	var pages atomic.Int32
	proxy := s3test.Proxy(t, fake.URL, func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			pages.Add(1)
		}
		return false
	})
	s := newStore(t, fake, proxy)
	objstore.SetListPageSize(s, 2)
	ctx := context.Background()
	for _, k := range []string{"tenants/a/3", "tenants/a/1", "tenants/b/1", "tenants/a/5", "tenants/a/2", "tenants/a/4"} {
		if _, err := s.Upload(ctx, k, "text/plain", strings.NewReader(k)); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := s.List(ctx, "tenants/a/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
		if o.Size != int64(len(o.Key)) || o.LastModified.IsZero() {
			t.Errorf("%+v", o)
		}
	}
	if strings.Join(keys, ",") != "tenants/a/1,tenants/a/2,tenants/a/3,tenants/a/4,tenants/a/5" || pages.Load() != 3 {
		t.Fatalf("keys %v in %d pages", keys, pages.Load())
	}
	if objs, err := s.List(ctx, "tenants/none/"); err != nil || objs == nil || len(objs) != 0 {
		t.Fatalf("empty listing: %#v %v", objs, err)
	}
}

// With storage down, every read is EUNAVAILABLE (never ENOTFOUND or internal).
func TestReadsWhenStorageDown(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	fake.Stop()
	ctx := context.Background()
	_, errHead := s.Head(ctx, "k")
	_, errRead := s.ReadPrefix(ctx, "k", 10)
	_, errList := s.List(ctx, "")
	for name, err := range map[string]error{"head": errHead, "read": errRead, "list": errList} {
		if course.ErrorCode(err) != course.EUNAVAILABLE || course.ErrorMessage(err) != "Storage unavailable" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

package objstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// Ensure ListMultipartUploads follows the markers page by page (page size
// 2 here) on a real server, returns only the prefix with real Initiated
// times, and that AbortMultipart frees an upload and shrugs at one
// already gone.
func TestMultipartUploadsPagesAndAbort(t *testing.T) {
	t.Parallel()
	endpoint, access, secret := s3test.Versitygw(t, "bucket")
	plain := s3test.PlainClient(endpoint, access, secret)
	s := objstore.New(objstore.Options{Endpoint: endpoint, Region: s3test.Region, AccessKey: access, SecretKey: secret,
		Bucket: "bucket", ForcePathStyle: true})
	objstore.SetListPageSize(s, 2)
	ctx := context.Background()
	for _, k := range []string{"tenants/a/1", "tenants/a/2", "tenants/b/3", "tenants/b/4", "tenants/c/5", "other/6"} {
		if _, err := plain.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	var pages int
	var seen []course.MultipartUpload
	list := func() {
		pages, seen = 0, nil
		if err := s.ListMultipartUploads(ctx, "tenants/", func(ups []course.MultipartUpload) error {
			pages++
			seen = append(seen, ups...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	list()
	var keys []string
	for _, u := range seen {
		keys = append(keys, u.Key)
		if u.UploadID == "" || u.Initiated.IsZero() {
			t.Errorf("%+v", u)
		}
	}
	if strings.Join(keys, ",") != "tenants/a/1,tenants/a/2,tenants/b/3,tenants/b/4,tenants/c/5" || pages != 3 {
		t.Fatalf("uploads %v in %d pages", keys, pages)
	}
	if err := s.AbortMultipart(ctx, seen[0].Key, seen[0].UploadID); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipart(ctx, seen[0].Key, seen[0].UploadID); err != nil {
		t.Fatalf("second abort: %v", err)
	}
	list()
	if len(seen) != 4 || seen[0].Key != "tenants/a/2" {
		t.Fatalf("after abort: %v", seen)
	}
	// Aborting each page while listing (as the sweep does) still visits all.
	visited := 0
	if err := s.ListMultipartUploads(ctx, "tenants/", func(ups []course.MultipartUpload) error {
		for _, u := range ups {
			visited++
			if err := s.AbortMultipart(ctx, u.Key, u.UploadID); err != nil {
				return err
			}
		}
		return nil
	}); err != nil || visited != 4 {
		t.Fatalf("abort while listing: %v, visited %d", err, visited)
	}
	if ups := s3test.PlainUploads(t, plain, "bucket"); strings.Join(ups, ",") != "other/6" {
		t.Fatalf("left: %v", ups)
	}
}

// Ensure ListPages hands over one page at a time and stops at fn's error.
func TestListPagesStopsOnError(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	objstore.SetListPageSize(s, 2)
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.Upload(ctx, fmt.Sprintf("tenants/x/%d", i), "text/plain", strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("enough")
	var sizes []int
	err := s.ListPages(ctx, "tenants/", func(page []course.ObjectInfo) error {
		sizes = append(sizes, len(page))
		if len(sizes) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || fmt.Sprint(sizes) != "[2 2]" {
		t.Fatalf("%v %v", err, sizes)
	}
	// gofakes3 answers NoSuchUpload for a bucket that never had an upload.
	if err := s.ListMultipartUploads(ctx, "tenants/", func([]course.MultipartUpload) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// Ensure the orphan sweep, against a real S3 server (versitygw: real
// listings, real LastModified and Initiated times), deletes exactly the
// old unreferenced objects under tenants/ and aborts exactly the old
// multipart uploads there: a referenced object, one whose row commits
// after the listing, a young orphan and anything outside tenants/ survive;
// more than 1000 orphans go in several requests of at most 1000 keys; a
// failed batch is counted and skipped, and the next sweep removes it.
func TestOrphanSweepAgainstVersitygw(t *testing.T) {
	t.Parallel()
	const bucket = "materials"
	endpoint, access, secret := s3test.Versitygw(t, bucket)
	plain := s3test.PlainClient(endpoint, access, secret)
	store := objstore.New(objstore.Options{Endpoint: endpoint, Region: s3test.Region, AccessKey: access, SecretKey: secret,
		Bucket: bucket, ForcePathStyle: true})
	db := openDB(t)
	tenant, node := tenantNode(t, db)
	ctx := context.Background()

	dir := fmt.Sprintf("tenants/%s/nodes/%s/", tenant, node)
	kept, orphan, late := dir+"a/kept.pdf", dir+"b/orphan.pdf", dir+"c/late.pdf"
	outside, young := "backups/old.dump", dir+"d/young.pdf"
	bulk := make([]string, 1001)
	for i := range bulk {
		bulk[i] = fmt.Sprintf("tenants/%s/bulk/%04d", tenant, i)
	}
	put(t, plain, bucket, append([]string{kept, orphan, late, outside}, bulk...)...)
	addMaterial(t, db, tenant, node, kept)
	oldUpload := startMultipart(t, plain, bucket, dir+"e/abandoned.mp4")
	startMultipart(t, plain, bucket, "backups/abandoned.tar")

	reg := prometheus.NewRegistry()
	metrics := jobs.NewMetrics(reg)
	rec := &recordingSweeper{StorageSweeper: store, failNth: map[int]error{1: errors.New("injected outage")}}
	refs := &hookedRefs{StorageReferences: db, key: late, before: func() { addMaterial(t, db, tenant, node, late) }}
	sweeper := func(grace time.Duration) *jobs.OrphanSweepWorker {
		return &jobs.OrphanSweepWorker{Store: rec, Refs: refs, Grace: grace, Metrics: metrics, Log: slog.New(slog.DiscardHandler)}
	}

	// With a grace longer than anything's age, nothing is touched.
	res, err := sweeper(time.Hour).Sweep(ctx)
	if err != nil || res.Listed != 1004 || res.Young != 1004 || res.Deleted != 0 || res.Uploads != 1 || res.Aborted != 0 || len(rec.deletes) != 0 {
		t.Fatalf("long grace: %+v %v, deletes %v", res, err, rec.deletes)
	}

	// Age everything above, then add a young object and upload.
	time.Sleep(2500 * time.Millisecond)
	put(t, plain, bucket, young)
	startMultipart(t, plain, bucket, dir+"f/in-progress.mp4")
	const grace = 1500 * time.Millisecond

	// First delete request (the first page's 1000 bulk keys) fails.
	began := time.Now()
	res, err = sweeper(grace).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep over %d objects: %+v in %s", res.Listed, res, time.Since(began).Round(time.Millisecond))
	want := jobs.SweepResult{Listed: 1005, Young: 1, Referenced: 2, Deleted: 2, Uploads: 2, Aborted: 1, Failed: 1}
	if res != want {
		t.Fatalf("sweep: %+v, want %+v", res, want)
	}
	keys, uploads := listed(t, plain, bucket)
	for _, k := range []string{kept, late, outside, young, bulk[0], bulk[999]} {
		if !keys[k] {
			t.Errorf("%s was deleted", k)
		}
	}
	if keys[orphan] || keys[bulk[1000]] {
		t.Errorf("orphans left: %v %v", keys[orphan], keys[bulk[1000]])
	}
	if uploads[dir+"e/abandoned.mp4"] || !uploads[dir+"f/in-progress.mp4"] || !uploads["backups/abandoned.tar"] {
		t.Errorf("uploads left: %v (aborted %s)", uploads, oldUpload)
	}
	if value(metrics.OrphansDeleted) != 2 || value(metrics.MultipartAborted) != 1 ||
		value(metrics.SweepFailures.WithLabelValues("delete")) != 1 {
		t.Fatalf("metrics: deleted %v aborted %v failures %v", value(metrics.OrphansDeleted),
			value(metrics.MultipartAborted), value(metrics.SweepFailures.WithLabelValues("delete")))
	}

	// The next sweep removes what the failed batch left.
	if _, err := plain.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(young)}); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	if res, err = sweeper(grace).Sweep(ctx); err != nil || res.Deleted != 1000 || res.Referenced != 2 || res.Failed != 0 {
		t.Fatalf("second sweep: %+v %v", res, err)
	}
	t.Logf("sweep over %d objects: %+v in %s", res.Listed, res, time.Since(began).Round(time.Millisecond))
	keys, _ = listed(t, plain, bucket)
	if len(keys) != 3 || !keys[kept] || !keys[late] || !keys[outside] {
		t.Fatalf("left after the second sweep: %v", keys)
	}
	for _, n := range rec.deletes {
		if n > 1000 {
			t.Fatalf("a delete request of %d keys: %v", n, rec.deletes)
		}
	}
	if value(metrics.OrphansDeleted) != 1002 {
		t.Fatalf("cs_storage_orphans_deleted_total %v", value(metrics.OrphansDeleted))
	}
}

// Ensure a sweep whose listings fail deletes nothing, counts both failed
// listings and ends the job with an error (a single attempt: the next
// day's run repeats it, no tight retry loop).
func TestOrphanSweepWhenStorageDown(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	store := objstore.New(objstore.Options{Endpoint: fake.URL, Region: s3test.Region, AccessKey: s3test.AccessKey,
		SecretKey: s3test.SecretKey, Bucket: fake.Bucket, ForcePathStyle: true})
	fake.Stop()
	metrics := jobs.NewMetrics(prometheus.NewRegistry())
	w := &jobs.OrphanSweepWorker{Store: store, Refs: nil, Grace: time.Second, Metrics: metrics, Log: slog.New(slog.DiscardHandler)}
	if err := w.Work(context.Background(), nil); err == nil {
		t.Fatal("a sweep that could not list succeeded")
	}
	if n := value(metrics.SweepFailures.WithLabelValues("list")); n != 2 {
		t.Fatalf("list failures %v, want 2 (objects and uploads)", n)
	}
	if (jobs.OrphanSweepArgs{}).InsertOpts().MaxAttempts != 1 {
		t.Fatal("the sweep is retried")
	}
}

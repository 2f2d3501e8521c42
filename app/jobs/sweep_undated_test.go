package jobs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// undatedStore lists objects and uploads the server gives no time for.
type undatedStore struct{ deleted, aborted []string }

func (s *undatedStore) ListPages(_ context.Context, _ string, fn func([]course.ObjectInfo) error) error {
	return fn([]course.ObjectInfo{{Key: "tenants/t/nodes/n/u/a.md", Size: 1}})
}

func (s *undatedStore) ListMultipartUploads(_ context.Context, _ string, fn func([]course.MultipartUpload) error) error {
	return fn([]course.MultipartUpload{{Key: "tenants/t/nodes/n/u/b.mp4", UploadID: "1"}})
}

func (s *undatedStore) AbortMultipart(_ context.Context, key, _ string) error {
	s.aborted = append(s.aborted, key)
	return nil
}

func (s *undatedStore) Delete(_ context.Context, keys ...string) error {
	s.deleted = append(s.deleted, keys...)
	return nil
}

type noRefs struct{}

func (noRefs) ReferencedKeys(context.Context, []string) (map[string]bool, error) { return nil, nil }

// Ensure an object or multipart upload without a date (a server that
// leaves LastModified or Initiated out) is never taken for an old one:
// the zero time is before every cutoff, and confirm-upload accepts such an
// object, so deleting it could remove a file a row is about to reference.
func TestOrphanSweepKeepsUndatedObjects(t *testing.T) {
	t.Parallel()
	store := &undatedStore{}
	w := &jobs.OrphanSweepWorker{Store: store, Refs: noRefs{}, Grace: time.Second,
		Metrics: jobs.NewMetrics(prometheus.NewRegistry()), Log: slog.New(slog.DiscardHandler)}
	if err := w.Work(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(store.deleted) != 0 || len(store.aborted) != 0 {
		t.Fatalf("undated objects removed: deleted %v, aborted %v", store.deleted, store.aborted)
	}
}

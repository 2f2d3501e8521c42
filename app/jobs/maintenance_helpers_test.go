package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// openDB opens a fresh migrated database.
func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), testdb.New(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// tenantNode inserts a tenant and a node of it.
func tenantNode(t *testing.T, db *postgres.DB) (tenant, node uuid.UUID) {
	t.Helper()
	tenant, node = uuid.New(), uuid.New()
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO tenants (id, name) VALUES ($1, $2)`, tenant, "t-"+tenant.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO material_nodes (id, tenant_id, title) VALUES ($1, $2, 'n')`, node, tenant); err != nil {
		t.Fatal(err)
	}
	return tenant, node
}

// addMaterial inserts a material pointing at key.
func addMaterial(t *testing.T, db *postgres.DB, tenant, node uuid.UUID, key string) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO material_entries
		(id, tenant_id, materialnode_id, source_type, source_url, storage_key) VALUES ($1, $2, $3, 'text', $4, $4)`,
		uuid.New(), tenant, node, key); err != nil {
		t.Fatal(err)
	}
}

// put stores small objects with a plain client, 16 at a time.
func put(t *testing.T, c *s3.Client, bucket string, keys ...string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	sem := make(chan struct{}, 16)
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// startMultipart begins a multipart upload with one part and leaves it
// unfinished, as a crashed upload does.
func startMultipart(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: out.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part one")}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.UploadId)
}

// listed returns every key of the bucket and every unfinished upload's key.
func listed(t *testing.T, c *s3.Client, bucket string) (keys map[string]bool, uploads map[string]bool) {
	t.Helper()
	keys, uploads = map[string]bool{}, map[string]bool{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys[aws.ToString(o.Key)] = true
		}
	}
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.Uploads {
		uploads[aws.ToString(u.Key)] = true
	}
	return keys, uploads
}

// recordingSweeper wraps the real store: it records the size of every
// delete request and can fail chosen ones.
type recordingSweeper struct {
	course.StorageSweeper
	mu      sync.Mutex
	deletes []int
	failNth map[int]error // 1-based delete call -> error
}

func (r *recordingSweeper) Delete(ctx context.Context, keys ...string) error {
	r.mu.Lock()
	r.deletes = append(r.deletes, len(keys))
	err := r.failNth[len(r.deletes)]
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return r.StorageSweeper.Delete(ctx, keys...)
}

// hookedRefs runs before when a reference lookup includes key: a row
// committed after the listing, right before the sweep's re-check.
type hookedRefs struct {
	course.StorageReferences
	key    string
	before func()
	once   sync.Once
}

func (h *hookedRefs) ReferencedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	for _, k := range keys {
		if k == h.key {
			h.once.Do(h.before)
		}
	}
	return h.StorageReferences.ReferencedKeys(ctx, keys)
}

// value reads a counter.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

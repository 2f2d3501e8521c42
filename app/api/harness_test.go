package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/api"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/intake"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/logging"
	"github.com/course-supporter/course-supporter/app/objstore"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// stack is the real API on a fresh database.
type stack struct {
	t     testing.TB
	srv   *api.Server
	db    *postgres.DB
	logs  *syncBuffer
	s3    *s3test.Server
	store *objstore.Store
	deps  api.Deps
	opts  api.Options
	in    intake.Options
	enq   *jobs.Enqueuer
}

// build (re)creates the server on the stack's stores and options.
func (s *stack) build() {
	s.deps.Intake = intake.New(intake.Deps{Nodes: s.deps.Nodes, Materials: s.deps.Materials, Objects: s.store,
		Observer: s.deps.Metrics, Log: s.deps.Log}, s.in)
	s.srv = api.New(s.deps, s.opts)
}

// swapObjects rebuilds the server on another object store.
func (s *stack) swapObjects(store *objstore.Store) {
	s.store = store
	s.build()
}

// withIntake rebuilds the server with other intake options.
func (s *stack) withIntake(f func(*intake.Options)) *stack {
	f(&s.in)
	s.build()
	return s
}

// multipartUploads lists the in-progress multipart uploads of the bucket.
func (s *stack) multipartUploads() []string {
	s.t.Helper()
	c := s3.New(s3.Options{
		Region: s3test.Region, BaseEndpoint: aws.String(s.s3.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKey, s3test.SecretKey, ""),
	})
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.s3.Bucket)})
	if err != nil && strings.Contains(err.Error(), "NoSuchUpload") {
		return nil // gofakes3 answers NoSuchUpload when there are none
	}
	if err != nil {
		s.t.Fatalf("list multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// mustStack builds the API over real PostgreSQL stores. opt adjusts the
// options (rate limiting is on by default, as in production).
func mustStack(t testing.TB, opt ...func(*api.Options)) *stack {
	t.Helper()
	db, err := postgres.Open(context.Background(), testdb.New(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return mustStackOn(t, db, opt...)
}

func mustStackOn(t testing.TB, db *postgres.DB, opt ...func(*api.Options)) *stack {
	t.Helper()
	logs := &syncBuffer{}
	// The configuration's defaults, spelled out: the API has none of its own.
	o := api.Options{Version: "test", JSONBodyMax: 1 << 20, RateLimitEnabled: true, UploadConcurrency: 4,
		KeyCacheTTL: 10 * time.Second, HealthTimeout: 5 * time.Second}
	for _, f := range opt {
		f(&o)
	}
	eo := jobsconf.DefaultEnqueue()
	eo.TenantSlots = 0 // no per-tenant limit unless a test asks (withTenantSlots)
	enq, err := jobs.NewEnqueuer(db.SQL, eo)
	if err != nil {
		t.Fatal(err)
	}
	fake := s3test.MustStart(t, "materials")
	store := objstore.New(objstore.Options{
		Endpoint: fake.URL, Region: s3test.Region, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
		Bucket: fake.Bucket, ForcePathStyle: true, PartSize: 5 << 20,
	})
	limiter := postgres.NewRateLimiter(db)
	t.Cleanup(func() { _ = limiter.Close(context.Background()) })
	deps := api.Deps{
		Log:       logging.New(logs, logging.Options{Format: "json", Level: "debug"}),
		Keys:      postgres.NewKeyStore(db),
		Limiter:   limiter,
		Nodes:     postgres.NewNodeStore(db, enq),
		Materials: postgres.NewMaterialStore(db, enq),
		Jobs:      postgres.NewJobStore(db, enq),
		Costs:     postgres.NewCallStore(db),
		Mappings:  postgres.NewMappingStore(db),
		Search:    &course.Searcher{Chunks: postgres.NewSearchStore(db, 100)}, // text only: embeddings off
	}
	deps.Generation = postgres.NewGenerationStore(db, enq)
	deps.Structures = deps.Generation.(*postgres.GenerationStore)
	in := intake.Options{MaxBytes: 1 << 30, PresignTTL: 15 * time.Minute, ObjectURLBase: fake.URL + "/" + fake.Bucket,
		Platforms: course.DefaultPlatforms}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	s := &stack{t: t, db: db, logs: logs, s3: fake, store: store, deps: deps, opts: o, in: in, enq: enq}
	s.build()
	return s
}

func (s *stack) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// mustTenant inserts an active tenant.
func (s *stack) mustTenant(name string) uuid.UUID {
	s.t.Helper()
	id := uuid.Must(uuid.NewV7())
	s.exec(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, id, name)
	return id
}

type keyOpts struct {
	scopes    string // JSON array
	ratePrep  int
	rateCheck int
	expiresAt *time.Time
	inactive  bool
}

// mustKey inserts a key the way the admin CLI does and returns the secret.
func (s *stack) mustKey(tenant uuid.UUID, o keyOpts) string {
	s.t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	secret := "cs_test_" + hex.EncodeToString(b)
	sum := sha256.Sum256([]byte(secret))
	if o.scopes == "" {
		o.scopes = `["prep","check"]`
	}
	if o.ratePrep == 0 {
		o.ratePrep = 1000
	}
	if o.rateCheck == 0 {
		o.rateCheck = 1000
	}
	s.exec(`INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, scopes, rate_limit_prep, rate_limit_check, is_active, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		uuid.Must(uuid.NewV7()), tenant, hex.EncodeToString(sum[:]), secret[:16], o.scopes, o.ratePrep, o.rateCheck, !o.inactive, o.expiresAt)
	return secret
}

// tenantWithKey is the common case: a tenant and a prep+check key.
func (s *stack) tenantWithKey(name string) (uuid.UUID, string) {
	id := s.mustTenant(name)
	return id, s.mustKey(id, keyOpts{})
}

type reply struct {
	Status int
	Header http.Header
	Raw    []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Raw, &m); err != nil {
		t.Fatalf("not a JSON object (%d): %s", r.Status, r.Raw)
	}
	return m
}

func (r reply) detail(t testing.TB) string {
	t.Helper()
	d, _ := r.json(t)["detail"].(string)
	return d
}

// call sends one request; body may be nil, a string (sent raw) or a value
// marshalled as JSON.
func (s *stack) call(method, path, key string, body any) reply {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	return s.do(req)
}

func (s *stack) do(req *http.Request) reply {
	s.t.Helper()
	resp, err := s.srv.App().Test(req, 30_000)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
}

// mustCreate creates a node (root when parent is empty) and returns its id.
func (s *stack) mustCreate(key, parent, title string) string {
	s.t.Helper()
	path := "/api/v1/nodes"
	if parent != "" {
		path += "/" + parent + "/children"
	}
	r := s.call(http.MethodPost, path, key, map[string]any{"title": title})
	if r.Status != http.StatusCreated {
		s.t.Fatalf("create %q: %d %s", title, r.Status, r.Raw)
	}
	return r.json(s.t)["id"].(string)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func mustJSON(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("bad JSON %s: %v", raw, err)
	}
}

// listen serves the stack on a loopback port, for behaviour that app.Test
// cannot show (body limits enforced by the HTTP server itself).
func (s *stack) listen() string {
	s.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	go func() { _ = s.srv.Serve(ln) }()
	s.t.Cleanup(func() { _ = s.srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// with returns the stack reporting to another test (fuzz targets).
func (s *stack) with(t testing.TB) *stack {
	c := *s
	c.t = t
	return &c
}

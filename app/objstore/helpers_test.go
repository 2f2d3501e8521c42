package objstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/objstore"
)

const mib = 1 << 20

// newStore builds a Store on endpoint (the fake or a proxy in front of it)
// with 5 MiB parts and no SDK retries, so fault tests are exact and fast.
func newStore(t *testing.T, fake *s3test.Server, endpoint string) *objstore.Store {
	t.Helper()
	s := objstore.New(objstore.Options{
		Endpoint: endpoint, Region: s3test.Region, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
		Bucket: fake.Bucket, ForcePathStyle: true, PartSize: 5 * mib,
	})
	objstore.SetSDKAttempts(s, 1)
	return s
}

// pattern is a generated stream of n bytes that allocates nothing; the
// period 251 is prime, so parts never repeat each other.
type pattern struct {
	n, off int64
	// after, when set, runs once the stream passed at (e.g. to fail it).
	at    int64
	after func() error
}

func newPattern(n int64) *pattern { return &pattern{n: n} }

func (p *pattern) Read(b []byte) (int, error) {
	if p.after != nil && p.off >= p.at {
		if err := p.after(); err != nil {
			return 0, err
		}
		p.after = nil
	}
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rest := p.n - p.off; int64(len(b)) > rest {
		b = b[:rest]
	}
	if p.after != nil && p.at > p.off && int64(len(b)) > p.at-p.off {
		b = b[:p.at-p.off]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternSHA(n int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, newPattern(n)); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// stored reads an object back with a plain client: its SHA-256, size and
// content type.
func stored(t *testing.T, fake *s3test.Server, key string) (sum string, size int64, contentType string) {
	t.Helper()
	out, err := fake.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(fake.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, aws.ToString(out.ContentType)
}

// assertNothingLeft checks that neither an object nor a multipart upload
// in progress remains.
func assertNothingLeft(t *testing.T, fake *s3test.Server) {
	t.Helper()
	if keys := fake.Keys(t, ""); len(keys) != 0 {
		t.Errorf("objects left: %v", keys)
	}
	if ups := fake.MultipartUploads(t); len(ups) != 0 {
		t.Errorf("multipart uploads left: %v", ups)
	}
}

// s3Error answers like S3 does when it fails.
func s3Error(w http.ResponseWriter, r *http.Request, status int, code string) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"+code+"</Code><Message>injected</Message></Error>")
}

func isUploadPart(r *http.Request, part string) bool {
	return r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == part
}

// Package objstore is the S3-compatible object storage adapter (Backblaze B2
// in production, versitygw or gofakes3 locally) on aws-sdk-go-v2. It speaks
// in keys and streams; HTTP statuses are the api package's business.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/course-supporter/course-supporter/app/course"
)

// Options configures the client.
type Options struct {
	Endpoint       string
	PublicEndpoint string
	Region         string
	AccessKey      string
	SecretKey      string
	Bucket         string
	ForcePathStyle bool
	// PartSize is the multipart part size (default 10 MiB, at least 5 MiB).
	PartSize int64
}

// Part sizes: the default, and the smallest part S3 accepts (but the last).
const (
	DefaultPartSize = 10 << 20
	MinPartSize     = 5 << 20
)

// Store is a bucket on an S3-compatible server. It is safe for concurrent
// use; build it with New and never copy it.
type Store struct {
	client   *s3.Client
	public   *s3.Client // signs URLs for clients that reach storage elsewhere
	bucket   string
	partSize int
	// parts recycles part buffers (*[]byte of partSize) across uploads, so
	// steady-state uploads allocate no part memory at all.
	parts sync.Pool
	// listPageSize is ListObjectsV2's MaxKeys; 0 leaves the server default
	// (1000). Tests lower it to exercise paging.
	listPageSize int32
}

// New builds a client. It makes no request: the server may be down at
// start, and /health reports it until it comes back.
func New(o Options) *Store {
	part := o.PartSize
	switch {
	case part <= 0:
		part = DefaultPartSize
	case part < MinPartSize:
		part = MinPartSize
	}
	public := o.PublicEndpoint
	if public == "" {
		public = o.Endpoint
	}
	s := &Store{client: newClient(o, o.Endpoint), public: newClient(o, public), bucket: o.Bucket, partSize: int(part)}
	s.parts.New = func() any {
		b := make([]byte, s.partSize)
		return &b
	}
	return s
}

func newClient(o Options, endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       o.Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: o.ForcePathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, ""),
		HTTPClient:   newHTTPClient(nil),
		// B2 and versitygw reject the newer default checksum trailers on
		// some operations; compute checksums only where required.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Bucket returns the configured bucket name.
func (s *Store) Bucket() string { return s.bucket }

// Check runs HeadBucket, for /health.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	return &course.HealthError{Kind: healthKind(ctx, err), Err: fmt.Errorf("head bucket: %w", err)}
}

func healthKind(ctx context.Context, err error) string {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return course.HealthTimeout
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NotFound", "NoSuchBucket":
			return course.HealthNotFound
		case "Forbidden", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return course.HealthAccessDenied
		}
		return course.HealthOther
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) {
		return course.HealthUnavailable
	}
	return course.HealthOther
}

package objstore

import (
	"net"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// SetSDKAttempts sets the SDK's own attempts per request (1: no SDK
// retries), so tests count this package's retries exactly and fast.
func SetSDKAttempts(s *Store, n int) {
	s.client = s3.New(s.client.Options(), func(o *s3.Options) { o.RetryMaxAttempts = n })
}

// SetListPageSize sets ListObjectsV2's MaxKeys, to exercise paging.
func SetListPageSize(s *Store, n int32) { s.listPageSize = n }

// SetConnWrap rebuilds the S3 client's HTTP client with wrap around every
// raw connection, under the large-write wrapper (tests observe the writes).
func SetConnWrap(s *Store, wrap func(net.Conn) net.Conn) {
	s.client = s3.New(s.client.Options(), func(o *s3.Options) { o.HTTPClient = newHTTPClient(wrap) })
}

package objstore

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// copyBuffer is the download copy buffer: large enough for few syscalls,
// small enough that a worker's memory does not grow with the object.
const copyBuffer = 64 << 10

// Download streams key into w and returns the byte count: ENOTFOUND when
// the object is absent, EUNAVAILABLE when storage fails mid-way.
func (s *Store) Download(ctx context.Context, key string, w io.Writer) (int64, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return 0, errNotFound()
	}
	if err != nil {
		return 0, errCall(ctx, "get object", err)
	}
	defer out.Body.Close()
	n, err := io.CopyBuffer(w, out.Body, make([]byte, copyBuffer))
	if err != nil {
		return n, errCall(ctx, "read object", err)
	}
	return n, nil
}

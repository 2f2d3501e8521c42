package objstore

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/course-supporter/course-supporter/app/course"
)

// Head returns the size of key: ENOTFOUND when it is absent, EUNAVAILABLE
// when storage fails.
func (s *Store) Head(ctx context.Context, key string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return 0, errNotFound()
	}
	if err != nil {
		return 0, errCall(ctx, "head object", err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// ReadPrefix returns up to n first bytes of key with a ranged GET
// (bytes=0-(n-1)). An empty object yields no bytes (servers answer its
// range with 416 InvalidRange).
func (s *Store) ReadPrefix(ctx context.Context, key string, n int64) ([]byte, error) {
	if n <= 0 {
		return []byte{}, nil
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1)),
	})
	switch {
	case isNotFound(err):
		return nil, errNotFound()
	case apiCode(err) == "InvalidRange":
		return []byte{}, nil
	case err != nil:
		return nil, errCall(ctx, "get object", err)
	}
	defer out.Body.Close()
	// A server that ignores Range sends the whole object: read n at most.
	b, err := io.ReadAll(io.LimitReader(out.Body, n))
	if err != nil {
		return nil, errCall(ctx, "read object", err)
	}
	return b, nil
}

// List returns every object under prefix in key order, following all
// pages of ListObjectsV2 (1000 keys per page unless the server says less).
func (s *Store) List(ctx context.Context, prefix string) ([]course.ObjectInfo, error) {
	out := []course.ObjectInfo{}
	err := s.ListPages(ctx, prefix, func(page []course.ObjectInfo) error {
		out = append(out, page...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

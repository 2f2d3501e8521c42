package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/course-supporter/course-supporter/app/course"
)

var _ course.ObjectStore = (*Store)(nil)

func isNotFound(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NotFound", "NoSuchKey", "404":
			return true
		}
	}
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	return errors.As(err, &nf) || errors.As(err, &nsk)
}

// Head returns the size of key.
func (s *Store) Head(ctx context.Context, key string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return 0, course.Errorf(course.ENOTFOUND, "Object not found")
	}
	if err != nil {
		return 0, errStorage(fmt.Errorf("head object: %w", err))
	}
	return aws.ToInt64(out.ContentLength), nil
}

// ReadPrefix returns up to n first bytes of key with a ranged GET.
func (s *Store) ReadPrefix(ctx context.Context, key string, n int64) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1)),
	})
	if isNotFound(err) {
		return nil, course.Errorf(course.ENOTFOUND, "Object not found")
	}
	if err != nil {
		return nil, errStorage(fmt.Errorf("get object: %w", err))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, n))
	if err != nil {
		return nil, errStorage(fmt.Errorf("read object: %w", err))
	}
	return b, nil
}

// Delete removes keys one by one; an absent key is not an error, so a
// retried cleanup is idempotent. (DeleteObjects would batch, but not every
// S3-compatible server accepts it without Content-MD5.)
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
		if err != nil && !isNotFound(err) {
			return errStorage(fmt.Errorf("delete %s: %w", k, err))
		}
	}
	return nil
}

// List returns every object under prefix, following all pages.
func (s *Store) List(ctx context.Context, prefix string) ([]course.ObjectInfo, error) {
	var out []course.ObjectInfo
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, errStorage(fmt.Errorf("list objects: %w", err))
		}
		for _, o := range page.Contents {
			out = append(out, course.ObjectInfo{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// PresignPut signs a PUT of key, with the content type (and the length,
// when known) among the signed headers, against the public endpoint.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (course.PresignedPut, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), ContentType: aws.String(contentType)}
	headers := map[string]string{"Content-Type": contentType}
	if size > 0 {
		in.ContentLength = aws.Int64(size)
		headers["Content-Length"] = fmt.Sprint(size)
	}
	req, err := s3.NewPresignClient(s.public).PresignPutObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return course.PresignedPut{}, errStorage(fmt.Errorf("presign put: %w", err))
	}
	if req.Method != http.MethodPut {
		return course.PresignedPut{}, fmt.Errorf("presign put: unexpected method %s", req.Method)
	}
	return course.PresignedPut{URL: req.URL, Headers: headers, Expires: ttl}, nil
}

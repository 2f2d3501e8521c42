package objstore

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/course-supporter/course-supporter/app/course"
)

// PresignPut signs a PUT of key for ttl against the public endpoint
// (Options.PublicEndpoint, else Endpoint). Content-Type and, when size > 0,
// Content-Length are signed headers; Headers lists what the client must
// send with exactly these values. Signing is local: no request is made.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (course.PresignedPut, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), ContentType: aws.String(contentType)}
	headers := map[string]string{"Content-Type": contentType}
	if size > 0 {
		in.ContentLength = aws.Int64(size)
		headers["Content-Length"] = strconv.FormatInt(size, 10)
	}
	req, err := s3.NewPresignClient(s.public).PresignPutObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return course.PresignedPut{}, fmt.Errorf("presign put: %w", err)
	}
	if req.Method != http.MethodPut {
		return course.PresignedPut{}, fmt.Errorf("presign put: unexpected method %s", req.Method)
	}
	return course.PresignedPut{URL: req.URL, Headers: headers, Expires: ttl}, nil
}

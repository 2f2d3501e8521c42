package objstore

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/course-supporter/course-supporter/app/course"
)

// Reads pinned to one version of an object (docs/design/uploads-and-storage.md,
// "Presigned upload"): a presigned PUT URL stays valid after confirmation,
// so the object under a confirmed key may be replaced; every read after
// confirmation names the ETag it expects and storage refuses another.

// Stat returns the size, ETag and LastModified of key: ENOTFOUND when it is absent,
// EUNAVAILABLE when storage fails.
func (s *Store) Stat(ctx context.Context, key string) (course.ObjectVersion, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return course.ObjectVersion{}, errNotFound()
	}
	if err != nil {
		return course.ObjectVersion{}, errCall(ctx, "head object", err)
	}
	return course.ObjectVersion{Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag),
		Modified: aws.ToTime(out.LastModified)}, nil
}

// ReadVersionPrefix returns up to n first bytes of key if its ETag is
// still etag (If-Match); course.ErrObjectChanged when it is not.
func (s *Store) ReadVersionPrefix(ctx context.Context, key, etag string, n int64) ([]byte, error) {
	if n <= 0 {
		return []byte{}, nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1))}
	if etag != "" {
		in.IfMatch = aws.String(etag)
	}
	out, err := s.client.GetObject(ctx, in)
	switch {
	case isNotFound(err):
		return nil, errNotFound()
	case isPreconditionFailed(err):
		return nil, course.ErrObjectChanged
	case apiCode(err) == "InvalidRange":
		return []byte{}, nil
	case err != nil:
		return nil, errCall(ctx, "get object", err)
	}
	defer out.Body.Close()
	if etag != "" && out.ETag != nil && aws.ToString(out.ETag) != etag {
		return nil, course.ErrObjectChanged // a server that ignores If-Match
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, n))
	if err != nil {
		return nil, errCall(ctx, "read object", err)
	}
	return b, nil
}

// DownloadVersion streams version v of key into w: with If-Match on its
// ETag (when known) and never more than v.Size bytes (when known). An
// object that is another version, or longer than v.Size, is
// course.ErrObjectChanged; nothing past v.Size is written.
func (s *Store) DownloadVersion(ctx context.Context, key string, v course.ObjectVersion, w io.Writer) (int64, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if v.ETag != "" {
		in.IfMatch = aws.String(v.ETag)
	}
	if v.Size > 0 {
		// One byte more than confirmed: enough to tell a longer object.
		in.Range = aws.String(fmt.Sprintf("bytes=0-%d", v.Size))
	}
	out, err := s.client.GetObject(ctx, in)
	switch {
	case isNotFound(err):
		return 0, errNotFound()
	case isPreconditionFailed(err):
		return 0, course.ErrObjectChanged
	case err != nil:
		return 0, errCall(ctx, "get object", err)
	}
	defer out.Body.Close()
	if v.ETag != "" && out.ETag != nil && aws.ToString(out.ETag) != v.ETag {
		return 0, course.ErrObjectChanged
	}
	var body io.Reader = out.Body
	if v.Size > 0 {
		body = io.LimitReader(out.Body, v.Size)
	}
	n, err := io.CopyBuffer(w, body, make([]byte, copyBuffer))
	if err != nil {
		return n, errCall(ctx, "read object", err)
	}
	if v.Size > 0 {
		// Anything after the confirmed size means the object grew.
		if extra, _ := io.CopyN(io.Discard, out.Body, 1); extra > 0 {
			return n, course.ErrObjectChanged
		}
	}
	return n, nil
}

func isPreconditionFailed(err error) bool {
	switch apiCode(err) {
	case "PreconditionFailed", "412":
		return true
	}
	return false
}

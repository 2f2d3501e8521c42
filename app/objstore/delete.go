package objstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// deleteBatch is the most keys DeleteObjects accepts at once.
const deleteBatch = 1000

// Delete removes keys with DeleteObjects in batches of 1000 (quiet mode).
// Absent keys are not an error, so a retried cleanup job is idempotent;
// any key the server could not delete, or a failed request, is an error
// (EUNAVAILABLE), so the job tries again.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	for start := 0; start < len(keys); start += deleteBatch {
		if err := s.deleteMany(ctx, keys[start:min(start+deleteBatch, len(keys))]); err != nil {
			return err
		}
	}
	return nil
}

// withContentMD5 adds Content-MD5 to DeleteObjects: the SDK sends only the
// newer x-amz-checksum-* header, which some S3-compatible servers ignore
// while still demanding Content-MD5.
func withContentMD5(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, smithyhttp.AddContentChecksumMiddleware)
}

func (s *Store) deleteMany(ctx context.Context, keys []string) error {
	if len(keys) == 1 {
		return s.deleteEach(ctx, keys)
	}
	objs := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
	}
	out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String(s.bucket), Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
	}, withContentMD5)
	if err != nil && batchUnsupported(err) && ctx.Err() == nil {
		return s.deleteEach(ctx, keys)
	}
	if err != nil {
		return errCall(ctx, "delete objects", err)
	}
	var errs []error
	for _, e := range out.Errors {
		if aws.ToString(e.Code) == "NoSuchKey" {
			continue
		}
		errs = append(errs, fmt.Errorf("delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
	}
	if len(errs) > 0 {
		return errStorage(errors.Join(errs...))
	}
	return nil
}

// batchUnsupported tells a server that refuses DeleteObjects itself (not
// implemented, or a checksum header it wants differently) from one that is
// failing: only the former is worth retrying key by key.
func batchUnsupported(err error) bool {
	switch apiCode(err) {
	case "NotImplemented", "MethodNotAllowed", "MissingContentMD5", "InvalidDigest", "BadDigest", "InvalidRequest":
		return true
	}
	return false
}

func (s *Store) deleteEach(ctx context.Context, keys []string) error {
	for _, k := range keys {
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
		if err != nil && !isNotFound(err) {
			return errCall(ctx, "delete "+k, err)
		}
	}
	return nil
}

package objstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/course-supporter/course-supporter/app/course"
)

var _ course.StorageSweeper = (*Store)(nil)

// ListPages calls fn with each page of ListObjectsV2 under prefix, in key
// order, so a walk over the whole bucket (the orphan sweep) holds one page
// at a time, never the listing. fn's error stops the walk and is returned.
func (s *Store) ListPages(ctx context.Context, prefix string, fn func([]course.ObjectInfo) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if s.listPageSize > 0 {
		in.MaxKeys = aws.Int32(s.listPageSize)
	}
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return errCall(ctx, "list objects", err)
		}
		objs := make([]course.ObjectInfo, 0, len(page.Contents))
		for _, o := range page.Contents {
			objs = append(objs, course.ObjectInfo{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
		}
		if err := fn(objs); err != nil {
			return err
		}
	}
	return nil
}

// ListMultipartUploads calls fn with each page of the unfinished multipart
// uploads under prefix. Pages follow the key marker alone: the sweep aborts
// uploads as it goes, and an upload-id marker naming an aborted upload is
// refused by some servers (versitygw); every key of ours is unique (it
// carries a UUIDv7), so no upload hides behind a key marker.
func (s *Store) ListMultipartUploads(ctx context.Context, prefix string, fn func([]course.MultipartUpload) error) error {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if s.listPageSize > 0 {
		in.MaxUploads = aws.Int32(s.listPageSize)
	}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if apiCode(err) == "NoSuchUpload" {
			return nil // gofakes3's answer for a bucket that never had one
		}
		if err != nil {
			return errCall(ctx, "list multipart uploads", err)
		}
		ups := make([]course.MultipartUpload, 0, len(out.Uploads))
		for _, u := range out.Uploads {
			ups = append(ups, course.MultipartUpload{Key: aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if err := fn(ups); err != nil {
			return err
		}
		next := aws.ToString(out.NextKeyMarker)
		if next == "" && len(ups) > 0 {
			next = ups[len(ups)-1].Key
		}
		// A server that says "truncated" without moving the marker would
		// loop forever: stop instead.
		if !aws.ToBool(out.IsTruncated) || next == "" || next == aws.ToString(in.KeyMarker) {
			return nil
		}
		in.KeyMarker = aws.String(next)
	}
}

// AbortMultipart aborts an unfinished multipart upload and frees its
// parts; one already completed or aborted is not an error.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
	})
	if err != nil && apiCode(err) != "NoSuchUpload" && !isNotFound(err) {
		return errCall(ctx, "abort multipart upload", err)
	}
	return nil
}

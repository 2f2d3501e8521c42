package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/course-supporter/course-supporter/app/course"
)

// partAttempts is how often one part is sent before the upload gives up,
// on top of the SDK's own retries; the part stays in memory meanwhile.
const partAttempts = 3

// unsignedPayload skips hashing the body for the SigV4 signature. The
// upload already hashes every byte once (raw_hash); a second SHA-256 per
// part for the signature halved throughput. Integrity on the wire comes
// from TLS to B2 in production (the header is still signed).
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// errTruncated replaces io.ErrUnexpectedEOF coming from the caller's
// reader (e.g. a multipart part cut short by a client disconnect): io.ReadFull
// passes that sentinel through unchanged, and it would otherwise read as
// the normal end of a short last part and complete a truncated object.
var errTruncated = errors.New("upload stream ended unexpectedly")

type strictReader struct{ r io.Reader }

func (s strictReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return n, errTruncated
	}
	return n, err //nolint:wrapcheck // io.EOF must stay unwrapped
}

// errStorage marks failures of the storage server (not of the reader).
func errStorage(err error) error {
	return errors.Join(course.Errorf(course.EUNAVAILABLE, "Storage unavailable"), err)
}

// Upload streams r to key. It reads one part buffer first: a stream that
// ends inside it is sent with one PutObject; otherwise a multipart upload
// sends every full buffer as a part. Two buffers alternate, so the next
// part is read from the client while the previous one is being sent, and
// memory stays at two parts whatever the size. Any failure aborts the
// multipart upload, so nothing remains.
func (s *Store) Upload(ctx context.Context, key, contentType string, r io.Reader) (course.UploadResult, error) {
	h := sha256.New()
	src := io.TeeReader(strictReader{r}, h)
	bufs := [2][]byte{make([]byte, s.partSize), nil}
	n, err := io.ReadFull(src, bufs[0])
	if err == io.EOF || err == io.ErrUnexpectedEOF { //nolint:errorlint // ReadFull's own sentinels, unwrapped

		if err := s.putOnce(ctx, key, contentType, bufs[0][:n]); err != nil {
			return course.UploadResult{}, err
		}
		return course.UploadResult{Size: int64(n), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
	}
	if err != nil {
		return course.UploadResult{}, fmt.Errorf("read upload: %w", err)
	}
	bufs[1] = make([]byte, s.partSize)
	size, err := s.multipart(ctx, key, contentType, src, bufs, n)
	if err != nil {
		return course.UploadResult{}, err
	}
	return course.UploadResult{Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func (s *Store) putOnce(ctx context.Context, key, contentType string, data []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), ContentType: aws.String(contentType),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	}, unsignedPayload)
	if err != nil {
		return errStorage(fmt.Errorf("put object: %w", err))
	}
	return nil
}

type partResult struct {
	part types.CompletedPart
	err  error
}

// multipart sends bufs[0][:first] as part 1 and keeps reading src.
func (s *Store) multipart(ctx context.Context, key, contentType string, src io.Reader, bufs [2][]byte, first int) (int64, error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), ContentType: aws.String(contentType),
	})
	if err != nil {
		return 0, errStorage(fmt.Errorf("create multipart upload: %w", err))
	}
	uploadID := created.UploadId
	abort := func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: uploadID,
		})
	}
	var (
		parts    []types.CompletedPart
		inflight chan partResult
		size     = int64(first)
		n        = first
		cur      = 0
	)
	wait := func() error {
		if inflight == nil {
			return nil
		}
		res := <-inflight
		inflight = nil
		if res.err != nil {
			return res.err
		}
		parts = append(parts, res.part)
		return nil
	}
	for num := int32(1); ; num++ {
		// Send the filled buffer in the background, then fill the other.
		if err := wait(); err != nil {
			abort()
			return 0, err
		}
		inflight = make(chan partResult, 1)
		go func(data []byte, num int32) {
			p, err := s.sendPart(ctx, key, uploadID, num, data)
			inflight <- partResult{part: p, err: err}
		}(bufs[cur][:n], num)
		cur = 1 - cur
		var rerr error
		n, rerr = io.ReadFull(src, bufs[cur])
		size += int64(n)
		last := rerr == io.EOF || rerr == io.ErrUnexpectedEOF //nolint:errorlint // ReadFull's own sentinels
		if rerr != nil && !last {
			_ = wait()
			abort()
			return 0, fmt.Errorf("read upload: %w", rerr)
		}
		if last && n == 0 {
			break
		}
		if last {
			if err := wait(); err != nil {
				abort()
				return 0, err
			}
			p, err := s.sendPart(ctx, key, uploadID, num+1, bufs[cur][:n])
			if err != nil {
				abort()
				return 0, err
			}
			parts = append(parts, p)
			break
		}
	}
	if err := wait(); err != nil {
		abort()
		return 0, err
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		abort()
		return 0, errStorage(fmt.Errorf("complete multipart upload: %w", err))
	}
	return size, nil
}

func (s *Store) sendPart(ctx context.Context, key string, uploadID *string, num int32, data []byte) (types.CompletedPart, error) {
	var err error
	for attempt := 0; attempt < partAttempts; attempt++ {
		if ctx.Err() != nil {
			return types.CompletedPart{}, fmt.Errorf("upload part %d: %w", num, ctx.Err())
		}
		var out *s3.UploadPartOutput
		out, err = s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: uploadID,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		}, unsignedPayload)
		if err == nil {
			return types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)}, nil
		}
	}
	return types.CompletedPart{}, errStorage(fmt.Errorf("upload part %d: %w", num, err))
}

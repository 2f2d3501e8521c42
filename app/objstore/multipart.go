package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// partAttempts is how often one part is sent before the upload gives
	// up, on top of the SDK's own retries; the part stays in memory meanwhile.
	partAttempts = 3
	// partRetryDelay grows linearly between those attempts.
	partRetryDelay = 200 * time.Millisecond
	// maxParts is S3's limit on the parts of one multipart upload.
	maxParts = 10000
)

type partResult struct {
	part types.CompletedPart
	err  error
}

// multipart sends first (a full buffer) as part 1 and the rest of src as
// further parts, then completes the upload. On any failure the multipart
// upload is aborted (and the object deleted, should the failure have hit
// the answer to CompleteMultipartUpload), with a context that survives the
// caller's cancellation.
func (u *upload) multipart(src *source, first *[]byte) error {
	created, err := u.s.client.CreateMultipartUpload(u.ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(u.s.bucket), Key: aws.String(u.key), ContentType: aws.String(u.contentType),
	})
	if err != nil {
		return errCall(u.ctx, "create multipart upload", err)
	}
	id := created.UploadId
	parts, err := u.sendParts(src, id, first)
	if err != nil {
		u.discard(id, false)
		return err
	}
	_, err = u.s.client.CompleteMultipartUpload(u.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(u.s.bucket), Key: aws.String(u.key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		u.discard(id, true)
		return errCall(u.ctx, "complete multipart upload", err)
	}
	return nil
}

// sendParts is the two-buffer pipeline: while one full buffer is being
// sent by a goroutine, the other is filled from src; then they swap. At
// most one part is in flight and no other part memory is ever allocated.
func (u *upload) sendParts(src *source, id *string, first *[]byte) ([]types.CompletedPart, error) {
	other := u.s.getPart()
	defer u.s.putPart(other)
	cur, n := first, len(*first)
	var parts []types.CompletedPart
	for num := int32(1); ; num++ {
		if num >= maxParts {
			return nil, fmt.Errorf("upload %s: more than %d parts", u.key, maxParts)
		}
		done := make(chan partResult, 1)
		go func(data []byte) {
			p, err := u.sendPart(id, num, data)
			if err != nil {
				u.stop(errPartFailed) // the reading stops at its next Read
			}
			done <- partResult{part: p, err: err}
		}((*cur)[:n])
		m, eof, rerr := src.fill(*other)
		ownErr := rerr != nil && !errors.Is(rerr, errPartFailed)
		if ownErr {
			u.stop(rerr) // the part in flight is moot: cancel it
		}
		res := <-done // the buffer is free again only now
		switch {
		case ownErr:
			return nil, rerr
		case res.err != nil:
			return nil, res.err
		case rerr != nil:
			return nil, rerr
		}
		parts = append(parts, res.part)
		cur, other = other, cur
		n = m
		if !eof {
			continue
		}
		if n > 0 { // the remainder is the last part; nothing left to overlap with
			p, err := u.sendPart(id, num+1, (*cur)[:n])
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
		}
		return parts, nil
	}
}

// sendPart uploads one part from memory, retrying it partAttempts times.
func (u *upload) sendPart(id *string, num int32, data []byte) (types.CompletedPart, error) {
	var err error
	for attempt := 1; attempt <= partAttempts; attempt++ {
		if attempt > 1 && !sleep(u.pctx, time.Duration(attempt-1)*partRetryDelay) {
			break
		}
		var out *s3.UploadPartOutput
		out, err = u.s.client.UploadPart(u.pctx, &s3.UploadPartInput{
			Bucket: aws.String(u.s.bucket), Key: aws.String(u.key), UploadId: id,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		}, unsignedPayload)
		if err == nil {
			return types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)}, nil
		}
		if u.pctx.Err() != nil {
			break
		}
	}
	return types.CompletedPart{}, errCall(u.pctx, fmt.Sprintf("upload part %d", num), err)
}

// discard aborts the multipart upload; after a failed Complete it also
// deletes the object, which the server may have assembled anyway.
func (u *upload) discard(id *string, completing bool) {
	cctx, cancel := cleanupContext(u.ctx)
	defer cancel()
	_, _ = u.s.client.AbortMultipartUpload(cctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(u.s.bucket), Key: aws.String(u.key), UploadId: id,
	})
	if completing {
		_, _ = u.s.client.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: aws.String(u.s.bucket), Key: aws.String(u.key)})
	}
}

// sleep waits d unless ctx ends first; it reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

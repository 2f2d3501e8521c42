package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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

// sendParts is the two-buffer pipeline: a full buffer is sent by a
// goroutine as soon as it is full, and the reader fills the other one;
// it waits only when both buffers are on their way (so up to two parts are
// in flight and the server works on both). No other part memory is ever
// allocated.
func (u *upload) sendParts(src *source, id *string, first *[]byte) ([]types.CompletedPart, error) {
	second := u.s.getPart()
	defer u.s.putPart(second)
	free := make(chan *[]byte, 2) // buffers whose part was sent (or failed)
	free <- second
	var mu sync.Mutex
	var parts []types.CompletedPart
	var partErr error
	var inflight sync.WaitGroup
	send := func(b *[]byte, num int32, data []byte) {
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			p, err := u.sendPart(id, num, data)
			mu.Lock()
			if err != nil && partErr == nil {
				partErr = err
				u.stop(errPartFailed) // the reading stops at its next Read
			}
			if err == nil {
				parts = append(parts, p)
			}
			mu.Unlock()
			free <- b // the buffer is free again only now (never blocks: cap 2)
		}()
	}
	// wait returns once no part is in flight: buffers are never returned
	// to the pool while the SDK may still read them.
	wait := func() error {
		inflight.Wait()
		mu.Lock()
		defer mu.Unlock()
		return partErr
	}
	cur, n := first, len(*first)
	for num := int32(1); ; num++ {
		if num >= maxParts {
			u.stop(errPartFailed)
			_ = wait()
			return nil, fmt.Errorf("upload %s: more than %d parts", u.key, maxParts)
		}
		send(cur, num, (*cur)[:n])
		cur = <-free // at once while the other buffer is free; else when a part is done
		m, eof, rerr := src.fill(*cur)
		switch {
		case rerr != nil && !errors.Is(rerr, errPartFailed):
			u.stop(rerr) // the parts in flight are moot: cancel them
			_ = wait()
			return nil, rerr
		case rerr != nil: // a part failed: its own error is the one to return
			if err := wait(); err != nil {
				return nil, err
			}
			return nil, rerr
		case !eof:
			n = m
			continue
		}
		if m > 0 { // the remainder is the last part
			send(cur, num+1, (*cur)[:m])
		}
		if err := wait(); err != nil {
			return nil, err
		}
		break
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	return parts, nil
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

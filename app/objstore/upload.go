package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/course-supporter/course-supporter/app/course"
)

// unsignedPayload skips hashing the body for the SigV4 signature. The
// upload already hashes every byte once (raw_hash); a second SHA-256 per
// part for the signature halved throughput. Integrity on the wire comes
// from TLS to B2 in production (the header is still signed).
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// Upload streams r to key. It reads one part buffer first: a stream that
// ends inside it is sent with one PutObject; otherwise a multipart upload
// sends every full buffer as a part (multipart.go). Size and SHA-256 are
// computed while reading. Any failure leaves nothing stored. An error of r
// is returned wrapped (errors.Is sees it), a cancelled ctx as a context
// error, and a storage failure as EUNAVAILABLE.
func (s *Store) Upload(ctx context.Context, key, contentType string, r io.Reader) (course.UploadResult, error) {
	// pctx stops the reading and the part in flight as soon as either fails.
	pctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	u := &upload{s: s, ctx: ctx, pctx: pctx, stop: stop, key: key, contentType: contentType}
	src := &source{r: r, ctx: pctx, h: sha256.New()}
	first := s.getPart()
	defer s.putPart(first)
	n, eof, err := src.fill(*first)
	if err != nil {
		return course.UploadResult{}, err
	}
	if eof {
		err = u.putOnce((*first)[:n])
	} else {
		err = u.multipart(src, first)
	}
	if err != nil {
		return course.UploadResult{}, err
	}
	return course.UploadResult{Size: src.size, SHA256: hex.EncodeToString(src.h.Sum(nil))}, nil
}

// upload is the state of one Upload call.
type upload struct {
	s                *Store
	ctx              context.Context // the caller's
	pctx             context.Context // cancelled with the first failure
	stop             context.CancelCauseFunc
	key, contentType string
}

func (u *upload) putOnce(data []byte) error {
	_, err := u.s.client.PutObject(u.ctx, &s3.PutObjectInput{
		Bucket: aws.String(u.s.bucket), Key: aws.String(u.key), ContentType: aws.String(u.contentType),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	}, unsignedPayload)
	if err == nil {
		return nil
	}
	// The server may have stored the object and lost the answer: make sure
	// it is gone (keys are unique per upload, so this deletes nothing else).
	cctx, cancel := cleanupContext(u.ctx)
	defer cancel()
	_, _ = u.s.client.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: aws.String(u.s.bucket), Key: aws.String(u.key)})
	return errCall(u.ctx, "put object", err)
}

// getPart takes a part buffer from the pool; putPart returns it. A buffer
// is returned only after the SDK call that sent it returned: smithy-go
// closes the request body then, and its body wrapper refuses reads after
// Close, so net/http cannot still be reading the buffer.
func (s *Store) getPart() *[]byte {
	b, _ := s.parts.Get().(*[]byte)
	return b
}

func (s *Store) putPart(b *[]byte) { s.parts.Put(b) }

// maxEmptyReads bounds a reader that keeps returning (0, nil).
const maxEmptyReads = 100

// source reads the caller's stream, hashing and counting every byte. It
// checks ctx between reads, so a failed part or a cancelled request stops
// the reading at the next Read.
type source struct {
	r    io.Reader
	ctx  context.Context
	h    hash.Hash
	size int64
}

// fill reads until buf is full (eof false) or r ends (eof true). Only
// io.EOF itself ends the stream: io.ErrUnexpectedEOF (a multipart body cut
// short by a disconnect) or a wrapped EOF is an error, so a truncated
// stream never completes as a shorter object.
func (s *source) fill(buf []byte) (n int, eof bool, err error) {
	empty := 0
	for n < len(buf) {
		if s.ctx.Err() != nil {
			return n, false, fmt.Errorf("upload stopped: %w", context.Cause(s.ctx))
		}
		m, rerr := s.r.Read(buf[n:])
		if m > 0 {
			s.h.Write(buf[n : n+m])
			s.size += int64(m)
			n += m
			empty = 0
		} else if rerr == nil {
			if empty++; empty >= maxEmptyReads {
				return n, false, fmt.Errorf("read upload: %w", io.ErrNoProgress)
			}
		}
		if rerr == io.EOF { //nolint:errorlint // the io.Reader contract: EOF itself, compared with ==
			return n, true, nil
		}
		if rerr != nil {
			return n, false, fmt.Errorf("read upload: %w", rerr)
		}
	}
	return n, false, nil
}

// errPartFailed is the cause pctx is cancelled with when a part could not
// be stored; the part's own error is what Upload returns then.
var errPartFailed = errors.New("part upload failed")

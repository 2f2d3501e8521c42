package course

import (
	"context"
	"io"
	"time"
)

// ObjectInfo is one stored object as listed.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// UploadResult is what a streamed upload learned on the way.
type UploadResult struct {
	Size   int64
	SHA256 string // hex
}

// ObjectVersion pins the exact bytes of a stored object: its size and the
// ETag storage gave it. A material records the version it was confirmed
// with; the worker reads only that version, never more than its size.
type ObjectVersion struct {
	Size int64
	ETag string // "" when unknown (then only the size bounds a read)
	// Modified is the object's LastModified (zero when unknown): how old
	// an upload is when it is confirmed.
	Modified time.Time
}

// ErrObjectChanged is the error of a stored object that is no longer the
// version confirmed (a presigned URL reused after confirmation); match it
// with errors.Is.
var ErrObjectChanged error = Errorf(ECONFLICT, "Stored file changed after the upload was confirmed")

// PresignedPut is a signed URL a client may PUT one object to.
type PresignedPut struct {
	URL     string
	Headers map[string]string
	Expires time.Duration
}

// ObjectStore is the object storage the service writes materials to. Keys
// are full object keys; implementations never interpret them.
type ObjectStore interface {
	// Upload streams r into key with the given content type, computing
	// size and SHA-256 on the way. Objects that fit one part are sent with
	// one PUT, larger ones as a multipart upload. On any error (including
	// an error returned by r, such as the size limit or a client
	// disconnect) nothing remains stored. Storage failures are EUNAVAILABLE.
	Upload(ctx context.Context, key, contentType string, r io.Reader) (UploadResult, error)
	// PresignPut signs a PUT of key for ttl; size > 0 is signed too.
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedPut, error)
	// Head returns the object's size; ENOTFOUND when absent, EUNAVAILABLE
	// when storage cannot be reached.
	Head(ctx context.Context, key string) (int64, error)
	// ReadPrefix returns up to n first bytes of the object.
	ReadPrefix(ctx context.Context, key string, n int64) ([]byte, error)
	// Stat returns the object's current version; ENOTFOUND when absent.
	Stat(ctx context.Context, key string) (ObjectVersion, error)
	// ReadVersionPrefix is ReadPrefix of exactly version etag;
	// ErrObjectChanged when the object is another version now.
	ReadVersionPrefix(ctx context.Context, key, etag string, n int64) ([]byte, error)
	// Delete removes keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// List returns every object under prefix, in key order.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
}

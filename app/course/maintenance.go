package course

import (
	"context"
	"time"
)

// Storage maintenance (docs/design/uploads-and-storage.md, "Orphan
// sweep"): the daily sweep removes what no row points at and nothing else
// cleans up (a discarded cleanup, a crash between upload and commit, an
// abandoned presigned or multipart upload); housekeeping removes rows that
// outlived their use (docs/design/jobs.md, "Maintenance").

// MultipartUpload is an unfinished multipart upload as listed.
type MultipartUpload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// StorageSweeper is what the orphan sweep needs of the object storage.
// Listings arrive a page at a time (at most 1000 entries), so a sweep over
// any bucket holds one page in memory; fn's error stops the listing.
type StorageSweeper interface {
	ListPages(ctx context.Context, prefix string, fn func([]ObjectInfo) error) error
	ListMultipartUploads(ctx context.Context, prefix string, fn func([]MultipartUpload) error) error
	// AbortMultipart aborts an unfinished upload; an upload already gone
	// is not an error.
	AbortMultipart(ctx context.Context, key, uploadID string) error
	// Delete removes keys (absent keys are not an error).
	Delete(ctx context.Context, keys ...string) error
}

// StorageReferences tells the sweep which keys rows still point at.
type StorageReferences interface {
	// ReferencedKeys returns the subset of keys some material's
	// storage_key equals.
	ReferencedKeys(ctx context.Context, keys []string) (map[string]bool, error)
}

// Housekeeper deletes bookkeeping rows nobody reads any more.
type Housekeeper interface {
	// DeleteIdleRateLimits deletes rate-limit rows whose newest counted
	// second is older than idle; they count nothing any more.
	DeleteIdleRateLimits(ctx context.Context, idle time.Duration) (int64, error)
	// DeleteStaleHeartbeats deletes heartbeats last seen before maxAge ago
	// (workers long gone).
	DeleteStaleHeartbeats(ctx context.Context, maxAge time.Duration) (int64, error)
}

package course

import (
	"context"
	"io"

	"github.com/google/uuid"
)

// UploadPart is one part of an upload form, in arrival order.
type UploadPart struct {
	Name     string    // the form field name
	FileName string    // the part's file name (file parts)
	Body     io.Reader // the part's content; the intake bounds what it reads
}

// UploadForm yields the parts of a streamed upload as they arrive, so a
// file goes to storage without ever being held whole.
type UploadForm interface {
	// NextPart returns the next part, io.EOF after the last one, or
	// EMALFORMED for a body that cannot be parsed.
	NextPart() (UploadPart, error)
}

// ErrMalformedForm is the error of an upload body that cannot be read as
// a form: a bad boundary, a truncated body, a client that went away.
func ErrMalformedForm() error { return Errorf(EMALFORMED, "Malformed multipart body") }

// UploadRequest is a streamed upload as the transport delivers it.
type UploadRequest struct {
	// DeclaredSize is the request's announced length (0 when unknown); a
	// body announced far over the file limit is refused before it is read.
	DeclaredSize int64
	// Open starts reading the body. The intake calls it once the node and
	// the declared size passed; it fails with EUNSUPPORTED for a body that
	// is not a form and EUNAVAILABLE when no upload slot is free.
	Open func() (UploadForm, error)
}

// PresignRequest asks for a signed PUT of one file.
type PresignRequest struct {
	Filename    string
	ContentType string
	SourceType  SourceType
	Size        int64 // required: signed into the URL as Content-Length
}

// PresignedUpload is where a client PUTs a file and the key it confirms
// afterwards.
type PresignedUpload struct {
	Key string
	PresignedPut
}

// ConfirmRequest turns a presigned upload into a material.
type ConfirmRequest struct {
	Key        string
	SourceType SourceType
	Filename   *string // overrides the name at the end of the key
}

// MaterialIntake turns files and URLs into materials and removes stored
// files: the object-key layout, the accepted files per source type, the
// content check and the cleanup after a failed upload live behind it
// (docs/design/uploads-and-storage.md). Every method is tenant-scoped.
type MaterialIntake interface {
	// Upload reads a streamed form (a file or a source_url) and records
	// the material, with warnings for unverified platforms. ENOTFOUND for
	// an unknown node, ETOOLARGE over the size limit, EINVALID for a file
	// that is not accepted, EMALFORMED for a broken body, EUNAVAILABLE
	// when storage fails. On any error nothing stays stored.
	Upload(ctx context.Context, tenantID, nodeID uuid.UUID, req UploadRequest) (*Material, []string, error)
	// Presign signs a PUT for a file the client uploads itself.
	// ENOTFOUND, EINVALID or ETOOLARGE as for Upload.
	Presign(ctx context.Context, tenantID, nodeID uuid.UUID, req PresignRequest) (*PresignedUpload, error)
	// Confirm checks a presigned upload (key, size, content) and records
	// it. EFORBIDDEN for a key outside the node, ECONFLICT when already
	// confirmed, ENOTFOUND when the object is missing; a rejected object
	// is deleted.
	Confirm(ctx context.Context, tenantID, nodeID uuid.UUID, req ConfirmRequest) (*Material, error)
	// ListStored lists the tenant's objects; EUNAVAILABLE when storage
	// cannot be reached.
	ListStored(ctx context.Context, tenantID uuid.UUID) ([]ObjectInfo, error)
	// DeleteStored removes a stored object of the tenant and its material,
	// if any. EFORBIDDEN for a key outside the tenant.
	DeleteStored(ctx context.Context, tenantID uuid.UUID, key string) error
}

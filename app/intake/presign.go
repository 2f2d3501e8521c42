package intake

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Presign signs a PUT of a new object of the node, after the same file
// checks a streamed upload gets (the content itself is checked on
// confirmation).
func (s *Service) Presign(ctx context.Context, tenant, node uuid.UUID, req course.PresignRequest) (*course.PresignedUpload, error) {
	if err := s.node(ctx, tenant, node); err != nil {
		return nil, err
	}
	if req.SourceType == course.SourceWeb {
		return nil, course.Errorf(course.EINVALID, "source_type 'web' does not support file upload.")
	}
	ext, err := checkExtension(req.SourceType, req.Filename)
	if err != nil {
		return nil, err
	}
	ct := strings.ToLower(strings.TrimSpace(req.ContentType))
	if ct != CanonicalType(ext) && ct != "application/octet-stream" {
		return nil, course.Errorf(course.EINVALID, "Content type '%s' is not allowed for extension '%s'.", req.ContentType, ext)
	}
	if req.Size <= 0 {
		return nil, course.FieldError("body.size_bytes", "missing", "Field required", nil)
	}
	if req.Size > s.opts.MaxBytes {
		return nil, s.tooLarge()
	}
	key := ObjectKey(tenant, node, req.Filename)
	p, err := s.objects.PresignPut(ctx, key, ct, req.Size, s.opts.PresignTTL)
	if err != nil {
		return nil, err
	}
	p.Expires = s.opts.PresignTTL
	return &course.PresignedUpload{Key: key, PresignedPut: p}, nil
}

// Confirm checks a presigned upload in the documented order (node, key,
// not yet confirmed, extension, presence, size, content) and records it.
// An object refused for its size or content is deleted.
func (s *Service) Confirm(ctx context.Context, tenant, node uuid.UUID, in course.ConfirmRequest) (*course.Material, error) {
	if err := s.node(ctx, tenant, node); err != nil {
		return nil, err
	}
	if !under(in.Key, nodePrefix(tenant, node)) {
		return nil, course.Errorf(course.EFORBIDDEN, "S3 key does not match tenant/node.")
	}
	used, err := s.materials.StorageKeyUsed(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	if used {
		return nil, course.Errorf(course.ECONFLICT, "Upload already confirmed.")
	}
	filename := in.Key[strings.LastIndex(in.Key, "/")+1:]
	if in.Filename != nil && *in.Filename != "" {
		filename = *in.Filename
	}
	ext, err := checkExtension(in.SourceType, filename)
	if err != nil {
		return nil, err
	}
	// The version seen now is the one confirmed: its ETag is recorded and
	// every later read (the sniff below, the worker's copy) must match it.
	v, err := s.objects.Stat(ctx, in.Key)
	size := v.Size
	if course.ErrorCode(err) == course.ENOTFOUND {
		return nil, errUploadMissing()
	}
	if err != nil {
		return nil, errStorage()
	}
	if s.opts.ConfirmWithin > 0 && !v.Modified.IsZero() {
		// Too old: the sweep may be deleting it. Otherwise the rest, up to
		// the commit, must finish before that age. (An object the server
		// gives no date is one the sweep never deletes either.)
		deadline := v.Modified.Add(s.opts.ConfirmWithin)
		if !time.Now().Before(deadline) {
			return nil, errUploadMissing()
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if size > s.opts.MaxBytes {
		s.discard(ctx, in.Key)
		return nil, s.tooLarge()
	}
	head, err := s.objects.ReadVersionPrefix(ctx, in.Key, v.ETag, Window)
	if errors.Is(err, course.ErrObjectChanged) {
		return nil, err // replaced between the two reads
	}
	if err != nil {
		return nil, errStorage()
	}
	if !Match(ext, head) {
		s.discard(ctx, in.Key)
		return nil, errContentMismatch(ext)
	}
	ct := CanonicalType(ext)
	return s.materials.CreateMaterial(ctx, tenant, course.NewMaterial{
		NodeID: node, SourceType: in.SourceType, SourceURL: s.objectURL(in.Key), StorageKey: &in.Key,
		Filename: &filename, ContentType: &ct, RawSize: &size, RawETag: etagPtr(v.ETag),
	})
}

func etagPtr(e string) *string {
	if e == "" {
		return nil
	}
	return &e
}

// errStorage hides a storage failure's details from the client.
func errStorage() error { return course.Errorf(course.EUNAVAILABLE, "Storage unavailable") }

// errUploadMissing answers a confirmation of an object that is absent, or
// too old to be confirmed (docs/design/uploads-and-storage.md, "Orphan sweep").
func errUploadMissing() error {
	return course.Errorf(course.ENOTFOUND, "File not found in S3. Upload may have failed or expired.")
}

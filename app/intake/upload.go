package intake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// declaredSlack is how far a request's announced length may exceed the
// file limit (the other form fields and the multipart framing).
const declaredSlack = 1 << 20

// Field limits of the upload form: one byte over the documented maximum,
// so an overlong value is seen and refused rather than cut silently.
const (
	maxSourceTypeField = 64
	maxSourceURLField  = 2001
	maxFilenameField   = 501
)

// errTooLarge ends an upload whose running size passed the limit.
var errTooLarge = errors.New("upload exceeds the size limit")

// limitReader fails with errTooLarge as soon as more than max bytes came.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, errTooLarge
	}
	return n, err //nolint:wrapcheck // io.EOF must pass through unwrapped
}

// form is what the upload said, in whatever order.
type form struct {
	sourceType string
	sourceURL  string
	filename   string
	file       *stored
}

// stored is a file already streamed to storage.
type stored struct {
	key      string
	filename string // the part's or the filename field's name
	ext      string
	size     int64
	sha256   string
	sniffOK  bool
}

// Upload reads the form part by part, streaming a file to storage as it
// arrives, then records the material; a stored file is deleted again when
// anything fails.
func (s *Service) Upload(ctx context.Context, tenant, node uuid.UUID, req course.UploadRequest) (*course.Material, []string, error) {
	if err := s.node(ctx, tenant, node); err != nil {
		return nil, nil, err
	}
	if req.DeclaredSize > s.opts.MaxBytes+declaredSlack {
		return nil, nil, s.tooLarge()
	}
	parts, err := req.Open()
	if err != nil {
		return nil, nil, err
	}
	f, err := s.readForm(ctx, tenant, node, parts)
	if err == nil {
		var m *course.Material
		var warnings []string
		if m, warnings, err = s.save(ctx, tenant, node, f); err == nil {
			return m, warnings, nil
		}
	}
	if f.file != nil {
		s.discard(ctx, f.file.key)
	}
	return nil, nil, err
}

// readForm walks the parts. Small fields are read with tight limits; the
// file part is streamed to storage as it arrives.
func (s *Service) readForm(ctx context.Context, tenant, node uuid.UUID, parts course.UploadForm) (*form, error) {
	f := &form{}
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return f, err
		}
		switch part.Name {
		case "source_type":
			f.sourceType, err = readField(part.Body, maxSourceTypeField)
		case "source_url":
			f.sourceURL, err = readField(part.Body, maxSourceURLField)
		case "filename":
			f.filename, err = readField(part.Body, maxFilenameField)
		case "file":
			if f.file != nil {
				return f, course.Errorf(course.EINVALID, "Only one file part is allowed")
			}
			f.file, err = s.streamFile(ctx, tenant, node, f, part)
		}
		if err != nil {
			return f, err
		}
	}
}

func readField(r io.Reader, limit int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return "", course.ErrMalformedForm()
	}
	return strings.TrimSpace(string(b)), nil
}

// streamFile validates what it can before the first byte goes to storage
// (source type and extension when those parts came first, the signature of
// the first Window bytes always), then streams the rest with the size limit.
func (s *Service) streamFile(ctx context.Context, tenant, node uuid.UUID, f *form, part course.UploadPart) (*stored, error) {
	name := part.FileName
	if f.filename != "" {
		name = f.filename
	}
	st := &stored{filename: name, ext: Ext(name)}
	if f.sourceType != "" {
		t, err := sourceType(f.sourceType)
		if err != nil {
			return nil, err
		}
		if _, err := checkExtension(t, name); err != nil {
			return nil, err
		}
	}
	head := make([]byte, Window)
	n, err := io.ReadFull(part.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, course.ErrMalformedForm()
	}
	head = head[:n]
	st.sniffOK = Match(st.ext, head)
	if !st.sniffOK && CanonicalType(st.ext) != "" {
		return nil, errContentMismatch(st.ext)
	}
	st.key = ObjectKey(tenant, node, name)
	r := &limitReader{r: io.MultiReader(bytes.NewReader(head), part.Body), max: s.opts.MaxBytes}
	res, err := s.objects.Upload(ctx, st.key, CanonicalType(st.ext), r)
	switch {
	case errors.Is(err, errTooLarge):
		s.rejected("too_large")
		return nil, s.tooLarge()
	case err != nil && course.ErrorCode(err) == course.EUNAVAILABLE:
		return nil, err
	case err != nil:
		// The client went away or sent a broken body; storage holds nothing.
		return nil, course.ErrMalformedForm()
	}
	st.size, st.sha256 = res.Size, res.SHA256
	s.uploaded(res.Size)
	return st, nil
}

// save validates the fields that may have come after the file and records
// the material.
func (s *Service) save(ctx context.Context, tenant, node uuid.UUID, f *form) (*course.Material, []string, error) {
	if f.sourceType == "" {
		return nil, nil, course.FieldError("body.source_type", "missing", "Field required", nil)
	}
	t, err := sourceType(f.sourceType)
	if err != nil {
		return nil, nil, err
	}
	in := course.NewMaterial{NodeID: node, SourceType: t}
	if st := f.file; st != nil {
		if f.filename != "" && f.filename != st.filename { // a filename part after the file overrides its name
			st.filename = f.filename
			if ext := Ext(st.filename); ext != st.ext {
				head, err := s.objects.ReadPrefix(ctx, st.key, Window)
				if err != nil {
					return nil, nil, err
				}
				st.ext, st.sniffOK = ext, Match(ext, head)
			}
		}
		ext, err := checkExtension(t, st.filename)
		if err != nil {
			return nil, nil, err
		}
		if !st.sniffOK {
			return nil, nil, errContentMismatch(ext)
		}
		ct := CanonicalType(ext)
		in.SourceURL, in.StorageKey, in.Filename, in.ContentType = s.objectURL(st.key), &st.key, &st.filename, &ct
		in.RawHash, in.RawSize = &st.sha256, &st.size
		m, err := s.materials.CreateMaterial(ctx, tenant, in)
		return m, []string{}, err
	}
	if f.sourceURL == "" {
		return nil, nil, course.Errorf(course.EINVALID, "Either source_url or file must be provided")
	}
	if !course.ValidSourceURL(f.sourceURL) {
		return nil, nil, course.Errorf(course.EINVALID, "source_url must be an absolute http(s) URL")
	}
	in.SourceURL = f.sourceURL
	if f.filename != "" {
		in.Filename = &f.filename
	}
	m, err := s.materials.CreateMaterial(ctx, tenant, in)
	return m, course.PlatformWarnings(s.opts.Platforms, t, f.sourceURL), err
}

// sourceType parses the form's source_type field.
func sourceType(v string) (course.SourceType, error) {
	t := course.SourceType(v)
	if !t.Valid() {
		return "", course.FieldError("body.source_type", "enum", "Input should be "+course.SourceTypeChoices(), v)
	}
	return t, nil
}

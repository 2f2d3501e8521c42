package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/sniff"
)

// uploadInput captures the raw request so the handler can stream the body;
// huma reads no body for it (there is no Body field).
type uploadInput struct {
	NodePath
	fc *fiber.Ctx
}

// Resolve implements huma.Resolver.
func (u *uploadInput) Resolve(ctx huma.Context) []error {
	u.fc = humafiber.Unwrap(ctx)
	return nil
}

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

// uploadForm is what the multipart body said, in whatever order.
type uploadForm struct {
	sourceType string
	sourceURL  string
	filename   string
	file       *uploaded
}

type uploaded struct {
	key      string
	filename string // the part's or the filename field's name
	ext      string
	size     int64
	sha256   string
	sniffOK  bool
}

func (s *Server) registerUpload() {
	o := matOp("create-material", http.MethodPost, "/api/v1/nodes/{id}/materials", "Add a material: a streamed file or a URL", classWrite, http.StatusCreated)
	o.Description = "multipart/form-data with parts source_type (required), source_url, file and filename, in any order. " +
		"The file is streamed to object storage with constant memory."
	o.Errors = append(o.Errors, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable)
	body := &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"multipart/form-data": {Schema: &huma.Schema{
			Type:     huma.TypeObject,
			Required: []string{"source_type"},
			Properties: map[string]*huma.Schema{
				"source_type": {Type: huma.TypeString, Enum: []any{"video", "presentation", "text", "web"}},
				"source_url":  {Type: huma.TypeString, MaxLength: intPtr(2000), Description: "external URL (video, web)"},
				"file":        {Type: huma.TypeString, Format: "binary", ContentEncoding: "binary"},
				"filename":    {Type: huma.TypeString, MaxLength: intPtr(500), Description: "overrides the file part's name"},
			},
		}},
	}}
	huma.Register(s.api, o, func(ctx context.Context, in *uploadInput) (*materialCreatedOutput, error) {
		out, err := s.createMaterial(ctx, in)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return out, nil
	})
	// Documented only after registration: a request body known to huma at
	// registration would make it read (and buffer) the whole body.
	s.api.OpenAPI().Paths["/api/v1/nodes/{id}/materials"].Post.RequestBody = body
}

func (s *Server) createMaterial(ctx context.Context, in *uploadInput) (*materialCreatedOutput, error) {
	tenant, node := tenantOf(ctx), nodeID(in.ID)
	if _, err := s.deps.Nodes.GetNode(ctx, tenant, node); err != nil {
		return nil, err
	}
	req := in.fc.Request()
	if cl := req.Header.ContentLength(); cl > 0 && int64(cl) > s.opts.UploadMaxBytes+1<<20 {
		return nil, s.tooLarge()
	}
	mt, params, err := mime.ParseMediaType(string(req.Header.ContentType()))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &errorBody{status: http.StatusUnsupportedMediaType, Detail: "Content-Type must be multipart/form-data"}
	}
	release, err := s.uploadSlot(ctx)
	if err != nil {
		in.fc.Set("Retry-After", "30")
		return nil, err
	}
	defer release()
	defer s.deps.Metrics.uploadStarted()()
	// Never call req.Body() here: with a streamed request it reads the
	// whole body into memory.
	body := req.BodyStream()
	if body == nil {
		body = bytes.NewReader(req.Body()) // small bodies arrive buffered
	}
	form, err := s.readForm(ctx, tenant, node, multipart.NewReader(bufio.NewReaderSize(body, 256<<10), params["boundary"]))
	if err != nil {
		if form.file != nil {
			s.discard(ctx, form.file.key)
		}
		return nil, err
	}
	m, warnings, err := s.saveMaterial(ctx, tenant, node, form)
	if err != nil {
		if form.file != nil {
			s.discard(ctx, form.file.key)
		}
		return nil, err
	}
	return &materialCreatedOutput{Body: toMaterialCreated(m, warnings)}, nil
}

// uploadSlot bounds concurrent uploads per process (peak memory is about
// slots × 2 part buffers); it waits at most 5 s for a slot.
func (s *Server) uploadSlot(ctx context.Context) (func(), error) {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case s.uploads <- struct{}{}:
		return func() { <-s.uploads }, nil
	case <-t.C:
		return nil, course.Errorf(course.EUNAVAILABLE, "Too many concurrent uploads")
	case <-ctx.Done():
		return nil, course.Errorf(course.EUNAVAILABLE, "Too many concurrent uploads")
	}
}

// readForm walks the parts. Small fields are read with tight limits; the
// file part is streamed to storage as it arrives.
func (s *Server) readForm(ctx context.Context, tenant, node uuid.UUID, mr *multipart.Reader) (*uploadForm, error) {
	form := &uploadForm{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil
		}
		if err != nil {
			return form, errMalformed()
		}
		switch part.FormName() {
		case "source_type":
			form.sourceType, err = readField(part, 64)
		case "source_url":
			form.sourceURL, err = readField(part, 2001)
		case "filename":
			form.filename, err = readField(part, 501)
		case "file":
			if form.file != nil {
				return form, course.Errorf(course.EINVALID, "Only one file part is allowed")
			}
			form.file, err = s.streamFile(ctx, tenant, node, form, part)
		}
		if err != nil {
			return form, err
		}
	}
}

func readField(p *multipart.Part, limit int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, limit))
	if err != nil {
		return "", errMalformed()
	}
	return strings.TrimSpace(string(b)), nil
}

// streamFile validates what it can before the first byte goes to storage
// (source type and extension when those parts came first, the signature of
// the first 4 KiB always), then streams the rest with the size limit.
func (s *Server) streamFile(ctx context.Context, tenant, node uuid.UUID, form *uploadForm, part *multipart.Part) (*uploaded, error) {
	name := part.FileName()
	if form.filename != "" {
		name = form.filename
	}
	f := &uploaded{filename: name, ext: sniff.Ext(name)}
	if form.sourceType != "" && !validSourceType(form.sourceType) {
		return nil, sourceTypeError(form.sourceType)
	}
	if form.sourceType != "" {
		if _, err := checkExtension(form.sourceType, name); err != nil {
			return nil, err
		}
	}
	head := make([]byte, sniffBytes)
	n, err := io.ReadFull(part, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, errMalformed()
	}
	head = head[:n]
	f.sniffOK = sniff.Match(f.ext, head)
	if !f.sniffOK && sniff.CanonicalType(f.ext) != "" {
		return nil, course.Errorf(course.EINVALID, "File content does not match extension '%s'.", f.ext)
	}
	f.key = objectKey(tenant, node, name)
	r := &limitReader{r: io.MultiReader(bytes.NewReader(head), part), max: s.opts.UploadMaxBytes}
	res, err := s.deps.Objects.Upload(ctx, f.key, sniff.CanonicalType(f.ext), r)
	switch {
	case errors.Is(err, errTooLarge):
		s.deps.Metrics.reject("too_large")
		return nil, s.tooLarge()
	case err != nil && course.ErrorCode(err) == course.EUNAVAILABLE:
		return nil, err
	case err != nil:
		// The client went away or sent a broken body; storage holds nothing.
		return nil, errMalformed()
	}
	f.size, f.sha256 = res.Size, res.SHA256
	s.deps.Metrics.uploaded(res.Size)
	return f, nil
}

// saveMaterial validates the fields that may have come after the file and
// records the material.
func (s *Server) saveMaterial(ctx context.Context, tenant, node uuid.UUID, form *uploadForm) (*course.Material, []string, error) {
	if form.sourceType == "" {
		return nil, nil, validationError("body.source_type", "missing", "Field required", nil)
	}
	if !validSourceType(form.sourceType) {
		return nil, nil, sourceTypeError(form.sourceType)
	}
	in := course.NewMaterial{NodeID: node, SourceType: form.sourceType}
	if f := form.file; f != nil {
		if form.filename != "" && form.filename != f.filename { // a filename part after the file overrides its name
			f.filename = form.filename
			if ext := sniff.Ext(f.filename); ext != f.ext {
				head, err := s.deps.Objects.ReadPrefix(ctx, f.key, sniffBytes)
				if err != nil {
					return nil, nil, err
				}
				f.ext, f.sniffOK = ext, sniff.Match(ext, head)
			}
		}
		ext, err := checkExtension(form.sourceType, f.filename)
		if err != nil {
			return nil, nil, err
		}
		if !f.sniffOK {
			return nil, nil, course.Errorf(course.EINVALID, "File content does not match extension '%s'.", ext)
		}
		ct := sniff.CanonicalType(ext)
		in.SourceURL, in.StorageKey, in.Filename, in.ContentType = s.objectURL(f.key), &f.key, &f.filename, &ct
		in.RawHash, in.RawSize = &f.sha256, &f.size
		m, err := s.deps.Materials.CreateMaterial(ctx, tenant, in)
		return m, []string{}, err
	}
	if form.sourceURL == "" {
		return nil, nil, course.Errorf(course.EINVALID, "Either source_url or file must be provided")
	}
	if !course.ValidSourceURL(form.sourceURL) {
		return nil, nil, course.Errorf(course.EINVALID, "source_url must be an absolute http(s) URL")
	}
	in.SourceURL = form.sourceURL
	if form.filename != "" {
		in.Filename = &form.filename
	}
	m, err := s.deps.Materials.CreateMaterial(ctx, tenant, in)
	return m, course.PlatformWarnings(s.opts.Platforms, form.sourceType, form.sourceURL), err
}

func validSourceType(t string) bool {
	switch t {
	case course.SourceVideo, course.SourcePresentation, course.SourceText, course.SourceWeb:
		return true
	}
	return false
}

func sourceTypeError(t string) error {
	return validationError("body.source_type", "enum", "Input should be 'video', 'presentation', 'text' or 'web'", t)
}

// errMalformed is the 400 of a broken multipart body (bad boundary,
// truncated, client gone).
func errMalformed() error {
	return &errorBody{status: http.StatusBadRequest, Detail: "Malformed multipart body"}
}

// validationError is a one-item 422 shape error.
func validationError(loc, typ, msg string, input any) error {
	return &errorBody{status: http.StatusUnprocessableEntity, Detail: []validationItem{{
		Type: typ, Loc: splitLocation(loc), Msg: msg, Input: input,
	}}}
}

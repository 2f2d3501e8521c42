package api

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"

	"github.com/course-supporter/course-supporter/app/course"
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
				"source_type": sourceTypeSchema(),
				"source_url":  {Type: huma.TypeString, MaxLength: intPtr(2000), Description: "external URL (video, web)"},
				"file":        {Type: huma.TypeString, Format: "binary", ContentEncoding: "binary"},
				"filename":    {Type: huma.TypeString, MaxLength: intPtr(500), Description: "overrides the file part's name"},
			},
		}},
	}}
	register(s, o, func(ctx context.Context, in *uploadInput) (*materialCreatedOutput, error) {
		var done func()
		defer func() {
			if done != nil {
				done()
			}
		}()
		req := in.fc.Request()
		m, warnings, err := s.deps.Intake.Upload(ctx, tenantOf(ctx), nodeID(in.ID), course.UploadRequest{
			DeclaredSize: int64(req.Header.ContentLength()),
			Open: func() (course.UploadForm, error) {
				form, release, err := s.openForm(ctx, in.fc)
				done = release
				return form, err
			},
		})
		if err != nil {
			return nil, err
		}
		return &materialCreatedOutput{Body: toMaterialCreated(m, warnings)}, nil
	})
	// Documented only after registration: a request body known to huma at
	// registration would make it read (and buffer) the whole body.
	s.api.OpenAPI().Paths["/api/v1/nodes/{id}/materials"].Post.RequestBody = body
}

// openForm checks the media type, takes an upload slot and starts reading
// the multipart body; release frees the slot (the form's end frees it
// first; release may run again).
func (s *Server) openForm(ctx context.Context, fc *fiber.Ctx) (course.UploadForm, func(), error) {
	req := fc.Request()
	mt, params, err := mime.ParseMediaType(string(req.Header.ContentType()))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, course.Errorf(course.EUNSUPPORTED, "Content-Type must be multipart/form-data")
	}
	share, err := s.shares.take(tenantOf(ctx))
	if err != nil {
		fc.Set("Retry-After", "30")
		return nil, nil, err
	}
	slot, err := s.uploadSlot(ctx)
	if err != nil {
		share()
		fc.Set("Retry-After", "30")
		return nil, nil, err
	}
	end := s.deps.Metrics.uploadStarted()
	var once sync.Once
	release := func() { once.Do(func() { end(); slot(); share() }) }
	// Never call req.Body() here: with a streamed request it reads the
	// whole body into memory.
	body := req.BodyStream()
	if body == nil {
		body = bytes.NewReader(req.Body()) // small bodies arrive buffered
	} else if s.opts.UploadIdle > 0 {
		body = newIdleReader(fc, body, s.opts.UploadIdle, s.opts.ReadTimeout)
	}
	closing := newDelimiterWatch(body, params["boundary"])
	mr := multipart.NewReader(bufio.NewReaderSize(closing, 256<<10), params["boundary"])
	return multipartForm{mr: mr, ended: release}, release, nil
}

// multipartForm adapts a multipart reader to the intake's form. Its end
// frees the upload slot and the tenant's share at once: the body is read
// and the part buffers are back in their pool, and recording the material
// may then wait for the tenant's tree lock (docs/design/data-model.md,
// "Tree lock") without holding a slot another upload could stream with.
type multipartForm struct {
	mr    *multipart.Reader
	ended func()
}

// NextPart implements course.UploadForm. Only a bare io.EOF is the end of
// the form: the delimiter watch makes a body that stops anywhere but after
// its close delimiter end in io.ErrUnexpectedEOF, which mime/multipart
// reports as that (possibly wrapped) error, and a body with no delimiter
// of the header's boundary at all ends in a wrapped one.
func (f multipartForm) NextPart() (course.UploadPart, error) {
	part, err := f.mr.NextPart()
	if err == io.EOF { //nolint:errorlint // only the bare EOF is a proper end
		f.ended()
		return course.UploadPart{}, io.EOF
	}
	if err != nil {
		return course.UploadPart{}, course.ErrMalformedForm()
	}
	return course.UploadPart{Name: part.FormName(), FileName: part.FileName(), Body: part}, nil
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

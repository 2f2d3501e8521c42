// Package intake is the material intake: it turns a streamed upload, a
// presigned upload or a URL into a material and removes stored files. It
// owns the object-key layout, the accepted files per source type, the
// content-signature check and the cleanup after a failed upload
// (docs/design/uploads-and-storage.md); the API only parses the transport
// and maps the domain errors it returns.
package intake

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Options are the intake's limits, from the configuration.
type Options struct {
	// MaxBytes is the largest accepted file (UPLOAD_MAX_BYTES).
	MaxBytes int64
	// PresignTTL is how long a presigned PUT stays valid.
	PresignTTL time.Duration
	// ObjectURLBase is S3_ENDPOINT/S3_BUCKET, the informational prefix of
	// a stored material's source_url.
	ObjectURLBase string
	// Platforms are the verified hosts per source type (URL warnings).
	Platforms map[course.SourceType][]string
	// ConfirmWithin is the age up to which a presigned object may be
	// confirmed (0: any). It is below the orphan sweep's grace, and a
	// confirmation must also commit within it, so no row can ever be
	// created for an object old enough for the sweep to delete
	// (docs/design/uploads-and-storage.md, "Orphan sweep").
	ConfirmWithin time.Duration
}

// Observer learns what uploads did, for metrics; nil records nothing.
type Observer interface {
	// Uploaded counts the bytes of a file stored by a streamed upload.
	Uploaded(bytes int64)
	// Rejected counts a refused upload by reason ("too_large").
	Rejected(reason string)
}

// Service implements course.MaterialIntake on the domain's stores.
type Service struct {
	nodes     course.NodeService
	materials course.MaterialService
	objects   course.ObjectStore
	observe   Observer
	log       *slog.Logger
	opts      Options
}

var _ course.MaterialIntake = (*Service)(nil)

// Deps are the services the intake uses.
type Deps struct {
	Nodes     course.NodeService
	Materials course.MaterialService
	Objects   course.ObjectStore
	Observer  Observer // optional
	Log       *slog.Logger
}

// New returns the intake service.
func New(d Deps, o Options) *Service {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{nodes: d.Nodes, materials: d.Materials, objects: d.Objects, observe: d.Observer, log: log, opts: o}
}

// node fails with ENOTFOUND unless the node is the tenant's.
func (s *Service) node(ctx context.Context, tenant, node uuid.UUID) error {
	_, err := s.nodes.GetNode(ctx, tenant, node)
	return err
}

// tooLarge is the error of a file over the size limit.
func (s *Service) tooLarge() error {
	return course.Errorf(course.ETOOLARGE, "File too large. Maximum size is %d bytes.", s.opts.MaxBytes)
}

// objectURL is the informational source_url of a stored file.
func (s *Service) objectURL(key string) string { return s.opts.ObjectURLBase + "/" + key }

// discard deletes an object that will not become a material; if storage
// refuses, the deletion is left to the retried cleanup job.
func (s *Service) discard(ctx context.Context, key string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.objects.Delete(ctx, key); err != nil {
		if err := s.materials.ScheduleObjectDeletion(ctx, []string{key}); err != nil {
			s.log.Error("object_cleanup_lost", "logger", "storage", "key", key, "error", err)
		}
	}
}

func (s *Service) uploaded(n int64) {
	if s.observe != nil {
		s.observe.Uploaded(n)
	}
}

func (s *Service) rejected(reason string) {
	if s.observe != nil {
		s.observe.Rejected(reason)
	}
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/sniff"
)

// MaterialPath is the {mid} path parameter of material routes.
type MaterialPath struct {
	MID string `path:"mid" format:"uuid" doc:"Material id"`
}

type materialCreatedOutput struct{ Body MaterialEntryCreateResponse }

func matOp(id, method, path, summary, class string, status int) huma.Operation {
	o := op(id, method, path, summary, class, status)
	o.Tags = []string{"materials"}
	return o
}

func (s *Server) registerMaterials() {
	huma.Register(s.api, matOp("list-node-materials", http.MethodGet, "/api/v1/nodes/{id}/materials", "List a node's materials", classRead, http.StatusOK),
		func(ctx context.Context, in *NodePath) (*struct{ Body []MaterialEntryResponse }, error) {
			ms, err := s.deps.Materials.ListMaterials(ctx, tenantOf(ctx), nodeID(in.ID))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &struct{ Body []MaterialEntryResponse }{Body: []MaterialEntryResponse{}}
			for _, m := range ms {
				out.Body = append(out.Body, toMaterialResponse(m))
			}
			return out, nil
		})
	huma.Register(s.api, matOp("get-material", http.MethodGet, "/api/v1/materials/{mid}", "Get a material", classRead, http.StatusOK),
		func(ctx context.Context, in *MaterialPath) (*struct{ Body MaterialEntryResponse }, error) {
			m, err := s.deps.Materials.GetMaterial(ctx, tenantOf(ctx), uuid.MustParse(in.MID))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body MaterialEntryResponse }{Body: toMaterialResponse(m)}, nil
		})
	huma.Register(s.api, matOp("delete-material", http.MethodDelete, "/api/v1/materials/{mid}", "Delete a material (its object is removed in the background)", classWrite, http.StatusNoContent),
		func(ctx context.Context, in *MaterialPath) (*struct{}, error) {
			if err := s.deps.Materials.DeleteMaterial(ctx, tenantOf(ctx), uuid.MustParse(in.MID)); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})
	huma.Register(s.api, matOp("retry-material", http.MethodPost, "/api/v1/materials/{mid}/retry", "Retry ingestion of a failed material", classWrite, http.StatusOK),
		func(ctx context.Context, in *MaterialPath) (*materialCreatedOutput, error) {
			m, err := s.deps.Materials.RetryMaterial(ctx, tenantOf(ctx), uuid.MustParse(in.MID))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &materialCreatedOutput{Body: toMaterialCreated(m, nil)}, nil
		})
	s.registerPresign()
	s.registerUpload()
	s.registerStorage()
}

// objectKey is where every stored file of a node goes.
func objectKey(tenant, node uuid.UUID, filename string) string {
	return fmt.Sprintf("tenants/%s/nodes/%s/%s/%s", tenant, node, uuid.Must(uuid.NewV7()), sniff.SafeFilename(filename))
}

// objectURL is the informational source_url of a stored file.
func (s *Server) objectURL(key string) string { return s.opts.ObjectURLBase + "/" + key }

// checkExtension validates the source type and the file's extension and
// returns the extension.
func checkExtension(sourceType, filename string) (string, error) {
	if sourceType == course.SourceWeb {
		return "", course.Errorf(course.EINVALID, "source_type 'web' does not accept file uploads, provide source_url instead.")
	}
	ext := sniff.Ext(filename)
	allowed := sniff.Extensions(sourceType)
	for _, a := range allowed {
		if a == ext {
			return ext, nil
		}
	}
	return "", course.Errorf(course.EINVALID, "File extension '%s' is not allowed for source_type '%s'. Accepted: %s",
		ext, sourceType, sniff.FormatAccepted(allowed))
}

// tooLarge is the 413 of a file over UPLOAD_MAX_BYTES.
func (s *Server) tooLarge() error {
	return course.Errorf(course.ETOOLARGE, "File too large. Maximum size is %d bytes.", s.opts.UploadMaxBytes)
}

func (s *Server) registerPresign() {
	huma.Register(s.api, matOp("create-upload-url", http.MethodPost, "/api/v1/nodes/{id}/materials/upload-url", "Get a presigned PUT URL for a file", classWrite, http.StatusOK),
		func(ctx context.Context, in *struct {
			NodePath
			Body PresignedURLRequest
		}) (*struct{ Body PresignedURLResponse }, error) {
			tenant, node := tenantOf(ctx), nodeID(in.ID)
			if _, err := s.deps.Nodes.GetNode(ctx, tenant, node); err != nil {
				return nil, s.fail(ctx, err)
			}
			if in.Body.SourceType == course.SourceWeb {
				return nil, s.fail(ctx, course.Errorf(course.EINVALID, "source_type 'web' does not support file upload."))
			}
			ext, err := checkExtension(in.Body.SourceType, in.Body.Filename)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			ct := strings.ToLower(strings.TrimSpace(in.Body.ContentType))
			if ct != sniff.CanonicalType(ext) && ct != "application/octet-stream" {
				return nil, s.fail(ctx, course.Errorf(course.EINVALID, "Content type '%s' is not allowed for extension '%s'.", in.Body.ContentType, ext))
			}
			var size int64
			if in.Body.SizeBytes != nil {
				size = *in.Body.SizeBytes
				if size > s.opts.UploadMaxBytes {
					return nil, s.fail(ctx, s.tooLarge())
				}
			}
			key := objectKey(tenant, node, in.Body.Filename)
			p, err := s.deps.Objects.PresignPut(ctx, key, ct, size, s.opts.PresignTTL)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body PresignedURLResponse }{Body: PresignedURLResponse{
				UploadURL: p.URL, Key: key, ExpiresIn: int(s.opts.PresignTTL.Seconds()), Method: http.MethodPut, Headers: p.Headers,
			}}, nil
		})
	huma.Register(s.api, matOp("confirm-upload", http.MethodPost, "/api/v1/nodes/{id}/materials/confirm-upload", "Turn a presigned upload into a material", classWrite, http.StatusCreated),
		func(ctx context.Context, in *struct {
			NodePath
			Body ConfirmUploadRequest
		}) (*materialCreatedOutput, error) {
			m, err := s.confirm(ctx, tenantOf(ctx), nodeID(in.ID), in.Body)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &materialCreatedOutput{Body: toMaterialCreated(m, nil)}, nil
		})
}

// confirm checks a presigned upload in the documented order and records it.
func (s *Server) confirm(ctx context.Context, tenant, node uuid.UUID, in ConfirmUploadRequest) (*course.Material, error) {
	if _, err := s.deps.Nodes.GetNode(ctx, tenant, node); err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("tenants/%s/nodes/%s/", tenant, node)
	if !strings.HasPrefix(in.Key, prefix) || strings.Contains(in.Key[len(prefix):], "..") {
		return nil, course.Errorf(course.EFORBIDDEN, "S3 key does not match tenant/node.")
	}
	used, err := s.deps.Materials.StorageKeyUsed(ctx, in.Key)
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
	size, err := s.deps.Objects.Head(ctx, in.Key)
	if course.ErrorCode(err) == course.ENOTFOUND {
		return nil, course.Errorf(course.ENOTFOUND, "File not found in S3. Upload may have failed or expired.")
	}
	if err != nil {
		return nil, course.Errorf(course.EUNAVAILABLE, "Storage unavailable")
	}
	if size > s.opts.UploadMaxBytes {
		s.discard(ctx, in.Key)
		return nil, s.tooLarge()
	}
	head, err := s.deps.Objects.ReadPrefix(ctx, in.Key, sniffBytes)
	if err != nil {
		return nil, course.Errorf(course.EUNAVAILABLE, "Storage unavailable")
	}
	if !sniff.Match(ext, head) {
		s.discard(ctx, in.Key)
		return nil, course.Errorf(course.EINVALID, "File content does not match extension '%s'.", ext)
	}
	ct := sniff.CanonicalType(ext)
	return s.deps.Materials.CreateMaterial(ctx, tenant, course.NewMaterial{
		NodeID: node, SourceType: in.SourceType, SourceURL: s.objectURL(in.Key), StorageKey: &in.Key,
		Filename: &filename, ContentType: &ct, RawSize: &size,
	})
}

// sniffBytes is how much of a file the signature check reads.
const sniffBytes = 4096

// discard deletes an object that will not become a material; if storage
// refuses, the deletion is left to the retried cleanup job.
func (s *Server) discard(ctx context.Context, key string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.deps.Objects.Delete(ctx, key); err != nil {
		if err := s.deps.Materials.ScheduleObjectDeletion(ctx, []string{key}); err != nil {
			s.deps.Log.Error("object_cleanup_lost", "logger", "storage", "key", key, "error", err)
		}
	}
}

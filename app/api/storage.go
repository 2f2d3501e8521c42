package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

const storageFilesPrefix = "/api/v1/storage/files/"

// StorageKeyPath is the object key of DELETE /storage/files/{key}. The key
// contains slashes; a middleware escapes them before routing so one path
// parameter can carry it.
type StorageKeyPath struct {
	Key string `path:"key" doc:"Full object key; may contain '/'"`
}

// escapeStorageKey rewrites DELETE /api/v1/storage/files/a/b/c to a single
// escaped segment, so the route matches the rest of the path.
func escapeStorageKey(c *fiber.Ctx) error {
	if c.Method() == http.MethodDelete {
		if rest, ok := strings.CutPrefix(c.Path(), storageFilesPrefix); ok && strings.Contains(rest, "/") {
			c.Path(storageFilesPrefix + url.PathEscape(rest))
		}
	}
	return c.Next()
}

func (s *Server) tenantPrefix(ctx context.Context) string {
	return fmt.Sprintf("tenants/%s/", tenantOf(ctx))
}

func (s *Server) listObjects(ctx context.Context) ([]course.ObjectInfo, error) {
	objs, err := s.deps.Objects.List(ctx, s.tenantPrefix(ctx))
	if err != nil {
		return nil, course.Errorf(course.EUNAVAILABLE, "Storage unavailable")
	}
	return objs, nil
}

func (s *Server) registerStorage() {
	stOp := func(id, method, path, summary, class string, status int) huma.Operation {
		o := op(id, method, path, summary, class, status)
		o.Tags = []string{"storage"}
		o.Errors = append(o.Errors, http.StatusServiceUnavailable)
		return o
	}
	huma.Register(s.api, stOp("list-stored-files", http.MethodGet, "/api/v1/storage/files", "List the tenant's stored objects", classRead, http.StatusOK),
		func(ctx context.Context, _ *struct{}) (*struct{ Body []StoredFile }, error) {
			objs, err := s.listObjects(ctx)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &struct{ Body []StoredFile }{Body: []StoredFile{}}
			for _, o := range objs {
				out.Body = append(out.Body, StoredFile{Key: o.Key, SizeBytes: o.Size, LastModified: Timestamp(o.LastModified)})
			}
			return out, nil
		})
	huma.Register(s.api, stOp("get-storage-usage", http.MethodGet, "/api/v1/storage/usage", "Total size and count of the tenant's objects", classRead, http.StatusOK),
		func(ctx context.Context, _ *struct{}) (*struct{ Body StorageUsage }, error) {
			objs, err := s.listObjects(ctx)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			u := StorageUsage{FileCount: len(objs)}
			for _, o := range objs {
				u.TotalBytes += o.Size
			}
			return &struct{ Body StorageUsage }{Body: u}, nil
		})
	huma.Register(s.api, stOp("delete-stored-file", http.MethodDelete, "/api/v1/storage/files/{key}", "Delete a stored object (and its material)", classWrite, http.StatusNoContent),
		func(ctx context.Context, in *StorageKeyPath) (*struct{}, error) {
			key, err := url.PathUnescape(in.Key)
			if err != nil || !strings.HasPrefix(key, s.tenantPrefix(ctx)) || strings.Contains(key, "..") {
				return nil, s.fail(ctx, course.Errorf(course.EFORBIDDEN, "Key does not belong to tenant."))
			}
			if err := s.deps.Materials.DeleteStoredFile(ctx, tenantOf(ctx), key); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})
}

package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"
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

func (s *Server) registerStorage() {
	stOp := func(id, method, path, summary, class string, status int) huma.Operation {
		o := op(id, method, path, summary, class, status)
		o.Tags = []string{"storage"}
		o.Errors = append(o.Errors, http.StatusServiceUnavailable)
		return o
	}
	register(s, stOp("list-stored-files", http.MethodGet, "/api/v1/storage/files", "List the tenant's stored objects", classRead, http.StatusOK),
		func(ctx context.Context, _ *struct{}) (*struct{ Body []StoredFile }, error) {
			objs, err := s.deps.Intake.ListStored(ctx, tenantOf(ctx))
			if err != nil {
				return nil, err
			}
			out := &struct{ Body []StoredFile }{Body: []StoredFile{}}
			for _, o := range objs {
				out.Body = append(out.Body, StoredFile{Key: o.Key, SizeBytes: o.Size, LastModified: Timestamp(o.LastModified)})
			}
			return out, nil
		})
	register(s, stOp("get-storage-usage", http.MethodGet, "/api/v1/storage/usage", "Total size and count of the tenant's objects", classRead, http.StatusOK),
		func(ctx context.Context, _ *struct{}) (*struct{ Body StorageUsage }, error) {
			objs, err := s.deps.Intake.ListStored(ctx, tenantOf(ctx))
			if err != nil {
				return nil, err
			}
			u := StorageUsage{FileCount: len(objs)}
			for _, o := range objs {
				u.TotalBytes += o.Size
			}
			return &struct{ Body StorageUsage }{Body: u}, nil
		})
	register(s, stOp("delete-stored-file", http.MethodDelete, "/api/v1/storage/files/{key}", "Delete a stored object (and its material)", classWrite, http.StatusNoContent),
		func(ctx context.Context, in *StorageKeyPath) (*struct{}, error) {
			key, err := url.PathUnescape(in.Key)
			if err != nil {
				key = "" // not a key of anyone: the intake refuses it as foreign
			}
			return nil, s.deps.Intake.DeleteStored(ctx, tenantOf(ctx), key)
		})
}

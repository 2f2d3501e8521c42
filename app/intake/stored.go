package intake

import (
	"context"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// ListStored lists every object under the tenant's prefix.
func (s *Service) ListStored(ctx context.Context, tenant uuid.UUID) ([]course.ObjectInfo, error) {
	objs, err := s.objects.List(ctx, tenantPrefix(tenant))
	if err != nil {
		return nil, errStorage()
	}
	return objs, nil
}

// DeleteStored removes a tenant's object and its material, if any; the
// object itself goes through the retried cleanup job.
func (s *Service) DeleteStored(ctx context.Context, tenant uuid.UUID, key string) error {
	if !under(key, tenantPrefix(tenant)) {
		return course.Errorf(course.EFORBIDDEN, "Key does not belong to tenant.")
	}
	return s.materials.DeleteStoredFile(ctx, tenant, key)
}

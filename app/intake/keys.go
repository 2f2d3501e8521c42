package intake

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// The object-key layout, built here and nowhere else:
//
//	tenants/{tenant}/nodes/{node}/{uuidv7}/{safe filename}
//
// The tenant prefix scopes listing and deletion; the node prefix is what a
// presigned upload must be confirmed under; the UUIDv7 keeps two files of
// the same name apart (docs/design/uploads-and-storage.md, "Object keys").

// tenantPrefix is the prefix of every object of a tenant.
func tenantPrefix(tenant uuid.UUID) string { return fmt.Sprintf("tenants/%s/", tenant) }

// nodePrefix is the prefix of every object of a node.
func nodePrefix(tenant, node uuid.UUID) string {
	return fmt.Sprintf("%snodes/%s/", tenantPrefix(tenant), node)
}

// ObjectKey is where a new stored file of a node goes.
func ObjectKey(tenant, node uuid.UUID, filename string) string {
	return nodePrefix(tenant, node) + uuid.Must(uuid.NewV7()).String() + "/" + SafeFilename(filename)
}

// under reports whether key lies below prefix without climbing out of it.
func under(key, prefix string) bool {
	return strings.HasPrefix(key, prefix) && !strings.Contains(key[len(prefix):], "..")
}

// checkExtension validates that a file of this name is accepted for the
// source type and returns its extension.
func checkExtension(sourceType course.SourceType, filename string) (string, error) {
	if sourceType == course.SourceWeb {
		return "", course.Errorf(course.EINVALID, "source_type 'web' does not accept file uploads, provide source_url instead.")
	}
	ext := Ext(filename)
	allowed := Extensions(sourceType)
	for _, a := range allowed {
		if a == ext {
			return ext, nil
		}
	}
	return "", course.Errorf(course.EINVALID, "File extension '%s' is not allowed for source_type '%s'. Accepted: %s",
		ext, sourceType, FormatAccepted(allowed))
}

// errContentMismatch is the answer to a file whose first bytes do not fit
// its extension.
func errContentMismatch(ext string) error {
	return course.Errorf(course.EINVALID, "File content does not match extension '%s'.", ext)
}

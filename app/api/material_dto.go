package api

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

// SourceType is a source_type field. Its schema's enum is the domain's
// list of source types, so the document cannot drift from it.
type SourceType string

// Schema implements huma.SchemaProvider.
func (SourceType) Schema(huma.Registry) *huma.Schema { return sourceTypeSchema() }

// sourceTypeSchema is the schema of a source_type field, derived from the
// domain's list.
func sourceTypeSchema() *huma.Schema {
	names := course.SourceTypeNames()
	enum := make([]any, len(names))
	for i, n := range names {
		enum[i] = n
	}
	return &huma.Schema{Type: huma.TypeString, Enum: enum}
}

// MaterialEntryResponse is a material as the API shows it.
type MaterialEntryResponse struct {
	ID           string     `json:"id" format:"uuid"`
	NodeID       string     `json:"materialnode_id" format:"uuid"`
	SourceType   SourceType `json:"source_type"`
	SourceURL    string     `json:"source_url"`
	Filename     *string    `json:"filename" nullable:"true"`
	Order        int        `json:"order"`
	State        string     `json:"state" enum:"error,pending,raw,integrity_broken,ready"`
	ErrorMessage *string    `json:"error_message" nullable:"true"`
	JobID        *string    `json:"job_id" nullable:"true" doc:"In-flight ingest job"`
	StorageKey   *string    `json:"storage_key" nullable:"true"`
	RawSize      *int64     `json:"raw_size_bytes" nullable:"true"`
	ProcessedAt  *Timestamp `json:"processed_at" nullable:"true"`
	CreatedAt    Timestamp  `json:"created_at"`
	UpdatedAt    Timestamp  `json:"updated_at"`
}

// MaterialEntryCreateResponse answers the creation of a material.
type MaterialEntryCreateResponse struct {
	ID         string     `json:"id" format:"uuid"`
	NodeID     string     `json:"materialnode_id" format:"uuid"`
	SourceType SourceType `json:"source_type"`
	SourceURL  string     `json:"source_url"`
	Filename   *string    `json:"filename" nullable:"true"`
	Order      int        `json:"order"`
	State      string     `json:"state" enum:"error,pending,raw,integrity_broken,ready"`
	JobID      *string    `json:"job_id" nullable:"true"`
	Warnings   []string   `json:"warnings"`
	CreatedAt  Timestamp  `json:"created_at"`
}

// PresignedURLRequest asks for a presigned PUT.
type PresignedURLRequest struct {
	_           struct{}   `additionalProperties:"true"`
	Filename    string     `json:"filename" minLength:"1" maxLength:"500"`
	ContentType string     `json:"content_type" minLength:"1" maxLength:"200"`
	SourceType  SourceType `json:"source_type"`
	// SizeBytes is required and signed into the URL (Content-Length), so
	// the URL cannot carry another size (docs/design/uploads-and-storage.md).
	SizeBytes int64 `json:"size_bytes" minimum:"1"`
}

// PresignedURLResponse tells the client where and how to PUT the file.
type PresignedURLResponse struct {
	UploadURL string            `json:"upload_url"`
	Key       string            `json:"key"`
	ExpiresIn int               `json:"expires_in"`
	Method    string            `json:"method" enum:"PUT"`
	Headers   map[string]string `json:"headers"`
}

// ConfirmUploadRequest turns a presigned upload into a material.
type ConfirmUploadRequest struct {
	_          struct{}   `additionalProperties:"true"`
	Key        string     `json:"key" minLength:"1" maxLength:"2000"`
	SourceType SourceType `json:"source_type"`
	Filename   *string    `json:"filename,omitempty" maxLength:"500" nullable:"true"`
}

// StoredFile is one object under the tenant's prefix.
type StoredFile struct {
	Key          string    `json:"key"`
	SizeBytes    int64     `json:"size_bytes"`
	LastModified Timestamp `json:"last_modified"`
}

// StorageUsage sums the tenant's objects.
type StorageUsage struct {
	TotalBytes int64 `json:"total_bytes"`
	FileCount  int   `json:"file_count"`
}

func toMaterialResponse(m *course.Material) MaterialEntryResponse {
	r := MaterialEntryResponse{
		ID: m.ID.String(), NodeID: m.NodeID.String(), SourceType: SourceType(m.SourceType), SourceURL: m.SourceURL,
		Filename: m.Filename, Order: m.Order, State: m.State(), ErrorMessage: m.ErrorMessage,
		StorageKey: m.StorageKey, RawSize: m.RawSize,
		CreatedAt: Timestamp(m.CreatedAt), UpdatedAt: Timestamp(m.UpdatedAt),
	}
	if m.JobID != nil {
		r.JobID = strPtr(m.JobID.String())
	}
	if m.ProcessedAt != nil {
		t := Timestamp(*m.ProcessedAt)
		r.ProcessedAt = &t
	}
	return r
}

func toMaterialCreated(m *course.Material, warnings []string) MaterialEntryCreateResponse {
	r := MaterialEntryCreateResponse{
		ID: m.ID.String(), NodeID: m.NodeID.String(), SourceType: SourceType(m.SourceType), SourceURL: m.SourceURL,
		Filename: m.Filename, Order: m.Order, State: m.State(), Warnings: warnings,
		CreatedAt: Timestamp(m.CreatedAt),
	}
	if m.JobID != nil {
		r.JobID = strPtr(m.JobID.String())
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r
}

func toMaterialSummary(m *course.Material) MaterialEntrySummary {
	return MaterialEntrySummary{
		ID: m.ID.String(), SourceType: SourceType(m.SourceType), SourceURL: m.SourceURL, Filename: m.Filename,
		Order: m.Order, State: m.State(), ErrorMessage: m.ErrorMessage, CreatedAt: Timestamp(m.CreatedAt),
	}
}

package api

import (
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Timestamp renders as RFC 3339 in UTC with an explicit +00:00 offset and
// microseconds, the format of the API contract.
type Timestamp time.Time

const timestampLayout = "2006-01-02T15:04:05.000000-07:00"

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(timestampLayout) + `"`), nil
}

// Schema documents the type as a date-time string.
func (Timestamp) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date-time", Examples: []any{"2026-03-08T12:00:00.123456+00:00"}}
}

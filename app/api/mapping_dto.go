package api

import (
	"github.com/course-supporter/course-supporter/app/course"
)

// SlideVideoMapEntry is one submitted mapping. The ids are plain strings
// so that a bad id is an error of its item, not of the whole request; the
// timecode pattern is the loose shape, and the strict form (two-digit
// minutes and seconds, course.ParseTimecode) is a per-item check, so a
// near miss rejects one item, not the batch.
type SlideVideoMapEntry struct {
	_              struct{} `additionalProperties:"true"`
	PresentationID string   `json:"presentation_materialentry_id" doc:"A presentation material of this node"`
	VideoID        string   `json:"video_materialentry_id" doc:"A video material of this node"`
	SlideNumber    int      `json:"slide_number" minimum:"1" maximum:"2147483647"`
	Start          string   `json:"video_timecode_start" pattern:"^(\\d{1,2}:)?[0-5]?\\d:[0-5]?\\d$" doc:"MM:SS or HH:MM:SS"`
	End            *string  `json:"video_timecode_end,omitempty" nullable:"true" pattern:"^(\\d{1,2}:)?[0-5]?\\d:[0-5]?\\d$" doc:"MM:SS or HH:MM:SS"`
}

// SlideVideoMapRequest submits 1..500 (course.MaxMappingsPerRequest)
// mappings, each checked on its own.
type SlideVideoMapRequest struct {
	_        struct{}             `additionalProperties:"true"`
	Mappings []SlideVideoMapEntry `json:"mappings" minItems:"1" maxItems:"500"`
}

// MappingBlockerResponse is a referenced material that is not ready.
type MappingBlockerResponse struct {
	Type            string   `json:"type" enum:"material_not_ready,material_error"`
	MaterialEntryID string   `json:"material_entry_id" format:"uuid"`
	Filename        *string  `json:"filename" nullable:"true"`
	MaterialState   string   `json:"material_state" enum:"error,pending,raw,integrity_broken,ready"`
	Message         string   `json:"message"`
	BlockedChecks   []string `json:"blocked_checks"`
}

// MappingErrorResponse is one failed check.
type MappingErrorResponse struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

// SlideVideoMapItemResponse is a stored mapping.
type SlideVideoMapItemResponse struct {
	ID               string                   `json:"id" format:"uuid"`
	NodeID           string                   `json:"materialnode_id" format:"uuid"`
	PresentationID   string                   `json:"presentation_materialentry_id" format:"uuid"`
	VideoID          string                   `json:"video_materialentry_id" format:"uuid"`
	SlideNumber      int                      `json:"slide_number"`
	Start            string                   `json:"video_timecode_start"`
	End              *string                  `json:"video_timecode_end" nullable:"true"`
	ValidationState  string                   `json:"validation_state" enum:"pending_validation,validated,validation_failed"`
	BlockingFactors  []MappingBlockerResponse `json:"blocking_factors" nullable:"true"`
	ValidationErrors []MappingErrorResponse   `json:"validation_errors" nullable:"true"`
	ValidatedAt      *Timestamp               `json:"validated_at" nullable:"true"`
	CreatedAt        Timestamp                `json:"created_at"`
}

// SkippedItem is a submitted item that already existed.
type SkippedItem struct {
	Index int    `json:"index"`
	Hint  string `json:"hint"`
}

// RejectedItem is a submitted item that failed a check.
type RejectedItem struct {
	Index  int                    `json:"index"`
	Errors []MappingErrorResponse `json:"errors"`
}

// ResubmitHints tell a client what to do with rejected items.
type ResubmitHints struct {
	Resubmit  string `json:"resubmit"`
	BatchSize int    `json:"batch_size" doc:"Number of rejected items"`
}

// SlideVideoMapResponse answers a batch with status 201, 207 or 422.
type SlideVideoMapResponse struct {
	Created      int                         `json:"created"`
	Skipped      int                         `json:"skipped"`
	Failed       int                         `json:"failed" doc:"Number of rejected items"`
	Mappings     []SlideVideoMapItemResponse `json:"mappings"`
	SkippedItems []SkippedItem               `json:"skipped_items"`
	Rejected     []RejectedItem              `json:"rejected"`
	Hints        *ResubmitHints              `json:"hints,omitempty" doc:"Present only when items were rejected"`
}

// SlideVideoMapList lists a node's mappings.
type SlideVideoMapList struct {
	Items []SlideVideoMapItemResponse `json:"items"`
	Total int                         `json:"total"`
}

// MappingWarningResponse is a mapping generation cannot use (yet).
type MappingWarningResponse struct {
	MappingID       string `json:"mapping_id" format:"uuid"`
	NodeID          string `json:"materialnode_id" format:"uuid"`
	SlideNumber     int    `json:"slide_number"`
	ValidationState string `json:"validation_state" enum:"pending_validation,validation_failed"`
}

func toMappingEntries(in []SlideVideoMapEntry) []course.MappingEntry {
	out := make([]course.MappingEntry, len(in))
	for i, e := range in {
		out[i] = course.MappingEntry{PresentationID: e.PresentationID, VideoID: e.VideoID, SlideNumber: e.SlideNumber,
			Start: e.Start, End: e.End}
	}
	return out
}

func toMappingErrors(es []course.MappingError) []MappingErrorResponse {
	if es == nil {
		return nil
	}
	out := make([]MappingErrorResponse, len(es))
	for i, e := range es {
		out[i] = MappingErrorResponse(e)
	}
	return out
}

func toMappingItem(m *course.Mapping) SlideVideoMapItemResponse {
	r := SlideVideoMapItemResponse{
		ID: m.ID.String(), NodeID: m.NodeID.String(), PresentationID: m.PresentationID.String(), VideoID: m.VideoID.String(),
		SlideNumber: m.SlideNumber, Start: m.Start, End: m.End, ValidationState: m.State,
		ValidationErrors: toMappingErrors(m.Errors), CreatedAt: Timestamp(m.CreatedAt),
	}
	if m.ValidatedAt != nil {
		t := Timestamp(*m.ValidatedAt)
		r.ValidatedAt = &t
	}
	for _, b := range m.Blockers {
		r.BlockingFactors = append(r.BlockingFactors, MappingBlockerResponse{Type: b.Type, MaterialEntryID: b.MaterialID.String(),
			Filename: b.Filename, MaterialState: b.MaterialState, Message: b.Message, BlockedChecks: b.BlockedChecks})
	}
	return r
}

func toMapResponse(b *course.MappingBatch) SlideVideoMapResponse {
	r := SlideVideoMapResponse{Created: len(b.Created), Skipped: len(b.Skipped), Failed: len(b.Rejected),
		Mappings: []SlideVideoMapItemResponse{}, SkippedItems: []SkippedItem{}, Rejected: []RejectedItem{}}
	for _, m := range b.Created {
		r.Mappings = append(r.Mappings, toMappingItem(m))
	}
	for _, s := range b.Skipped {
		r.SkippedItems = append(r.SkippedItems, SkippedItem(s))
	}
	for _, x := range b.Rejected {
		r.Rejected = append(r.Rejected, RejectedItem{Index: x.Index, Errors: toMappingErrors(x.Errors)})
	}
	if len(b.Rejected) > 0 {
		r.Hints = &ResubmitHints{Resubmit: course.MappingResubmitHint, BatchSize: len(b.Rejected)}
	}
	return r
}

func toMappingWarnings(ws []course.MappingWarning) []MappingWarningResponse {
	out := make([]MappingWarningResponse, len(ws))
	for i, w := range ws {
		out[i] = MappingWarningResponse{MappingID: w.MappingID.String(), NodeID: w.NodeID.String(),
			SlideNumber: w.SlideNumber, ValidationState: w.State}
	}
	return out
}

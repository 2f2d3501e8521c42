package api

import (
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

// createMappingsOp documents POST /nodes/{id}/slide-mapping: one body
// shape under three statuses, each with an example, and a 422 that is
// either that body (every item rejected) or a shape error.
func (s *Server) createMappingsOp() huma.Operation {
	o := op("create-slide-mappings", http.MethodPost, "/api/v1/nodes/{id}/slide-mapping",
		"Map slides to video timecodes (each item checked on its own)", classWrite, http.StatusCreated)
	o.Tags = []string{"slide mappings"}
	o.Description = "Each item is checked on its own: structure (ids, types, timecodes), readiness of both " +
		"materials (a material that is not ready yet adds a blocker and the item is stored as " +
		"pending_validation), and content (slide within the page count, timecodes within the video). " +
		"201: nothing rejected; 207: some created, some rejected; 422: nothing created, some rejected. " +
		"Duplicates (same presentation, video, slide and start) are skipped."
	// 422 is documented below: huma would otherwise describe it as an error
	// body only.
	o.Errors = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests}
	reg := s.api.OpenAPI().Components.Schemas
	body := reg.Schema(reflect.TypeOf(SlideVideoMapResponse{}), true, "SlideVideoMapResponse")
	errBody := reg.Schema(reflect.TypeOf(errorBody{}), true, "ErrorBody")
	o.Responses = map[string]*huma.Response{
		"201": {Description: "Nothing rejected: items created and/or skipped as duplicates",
			Content: map[string]*huma.MediaType{"application/json": {Examples: map[string]*huma.Example{
				"created": {Summary: "One validated, one waiting for its video", Value: exampleCreated()}}}}},
		"207": {Description: "Some items created, some rejected",
			Content: map[string]*huma.MediaType{"application/json": {Schema: body, Examples: map[string]*huma.Example{
				"partial": {Summary: "One created, one rejected", Value: examplePartial()}}}}},
		"422": {Description: "Every item rejected (batch body), or the request has the wrong shape (error body)",
			Content: map[string]*huma.MediaType{"application/json": {
				Schema: &huma.Schema{OneOf: []*huma.Schema{body, errBody}},
				Examples: map[string]*huma.Example{
					"rejected": {Summary: "Every item rejected", Value: exampleRejected()},
					"shape": {Summary: "Request shape error", Value: map[string]any{"detail": []map[string]any{{
						"type": "less_than_equal", "loc": []string{"body", "mappings"},
						"msg": "expected array length <= 500", "input": "…"}}}},
				}}}},
	}
	return o
}

var exampleTime = Timestamp(time.Date(2026, 3, 8, 12, 0, 0, 123456000, time.UTC))

const (
	exampleNode  = "01957a3c-0000-7000-8000-000000000001"
	exampleDeck  = "01957a3c-0000-7000-8000-0000000000d1"
	exampleVideo = "01957a3c-0000-7000-8000-0000000000f1"
)

func exampleItem(id string, slide int, start string, state string) SlideVideoMapItemResponse {
	r := SlideVideoMapItemResponse{ID: id, NodeID: exampleNode, PresentationID: exampleDeck, VideoID: exampleVideo,
		SlideNumber: slide, Start: start, ValidationState: state, CreatedAt: exampleTime}
	if state == course.MappingValidated {
		r.ValidatedAt = &exampleTime
	}
	return r
}

func exampleCreated() SlideVideoMapResponse {
	waiting := exampleItem("01957a3c-0000-7000-8000-0000000000a2", 4, "12:30", course.MappingPending)
	waiting.BlockingFactors = []MappingBlockerResponse{{Type: course.BlockerNotReady, MaterialEntryID: exampleVideo,
		Filename: strPtr("lecture.mp4"), MaterialState: course.StatePending,
		Message:       "Video is not ready yet; timecodes will be checked after ingestion.",
		BlockedChecks: []string{course.FieldStart, course.FieldEnd}}}
	return SlideVideoMapResponse{Created: 2, Skipped: 1,
		Mappings: []SlideVideoMapItemResponse{
			exampleItem("01957a3c-0000-7000-8000-0000000000a1", 1, "00:00", course.MappingValidated), waiting},
		SkippedItems: []SkippedItem{{Index: 2, Hint: course.MappingSkipHint}}, Rejected: []RejectedItem{}}
}

func examplePartial() SlideVideoMapResponse {
	return SlideVideoMapResponse{Created: 1, Failed: 1,
		Mappings:     []SlideVideoMapItemResponse{exampleItem("01957a3c-0000-7000-8000-0000000000a3", 2, "01:15", course.MappingValidated)},
		SkippedItems: []SkippedItem{},
		Rejected: []RejectedItem{{Index: 1, Errors: []MappingErrorResponse{{Field: course.FieldSlide,
			Message: "Slide number exceeds page count (12)", Hint: "Use a slide number from 1 to 12"}}}},
		Hints: &ResubmitHints{Resubmit: course.MappingResubmitHint, BatchSize: 1}}
}

func exampleRejected() SlideVideoMapResponse {
	return SlideVideoMapResponse{Failed: 1, Mappings: []SlideVideoMapItemResponse{}, SkippedItems: []SkippedItem{},
		Rejected: []RejectedItem{{Index: 0, Errors: []MappingErrorResponse{
			{Field: course.FieldVideo, Message: "Material not found in this node", Hint: "Use a material attached to this node"},
			{Field: course.FieldStart, Message: "Invalid timecode format", Hint: "Use MM:SS or HH:MM:SS"}}}},
		Hints: &ResubmitHints{Resubmit: course.MappingResubmitHint, BatchSize: 1}}
}

package course_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// Ensure the strict timecode form accepts MM:SS and (H)H:MM:SS only, and
// counts seconds.
func TestParseTimecode(t *testing.T) {
	for in, want := range map[string]int{"00:00": 0, "12:30": 750, "1:02:03": 3723, "10:00:59": 36059} {
		if got, ok := course.ParseTimecode(in); !ok || got != want {
			t.Errorf("%q = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1:05", "7:5", "60:00", "00:60", "123:00:00", "aa:bb", "12:30 ", "-1:00"} {
		if _, ok := course.ParseTimecode(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Ensure the structural checks report the first failing check of every
// field, in field order, with the verbatim messages.
func TestCheckStructure(t *testing.T) {
	pres := &course.MappingMaterial{ID: uuid.New(), SourceType: course.SourcePresentation}
	video := &course.MappingMaterial{ID: uuid.New(), SourceType: course.SourceVideo}
	inNode := func(id uuid.UUID) *course.MappingMaterial {
		for _, m := range []*course.MappingMaterial{pres, video} {
			if m.ID == id {
				return m
			}
		}
		return nil
	}
	ok := course.MappingEntry{PresentationID: pres.ID.String(), VideoID: video.ID.String(), SlideNumber: 2, Start: "01:00", End: ptr("1:02:00")}
	m, errs := course.CheckStructure(ok, inNode)
	if errs != nil || m.StartSec != 60 || *m.EndSec != 3720 || m.PresentationID != pres.ID || m.VideoID != video.ID {
		t.Fatalf("valid entry: %+v %v", m, errs)
	}
	cases := []struct {
		name  string
		edit  func(*course.MappingEntry)
		field string
		msg   string
	}{
		{"bad presentation id", func(e *course.MappingEntry) { e.PresentationID = "nope" }, course.FieldPresentation, "Invalid UUID"},
		{"unknown video", func(e *course.MappingEntry) { e.VideoID = uuid.NewString() }, course.FieldVideo, "Material not found in this node"},
		{"video as presentation", func(e *course.MappingEntry) { e.PresentationID = video.ID.String() }, course.FieldPresentation, "Material is not a presentation"},
		{"presentation as video", func(e *course.MappingEntry) { e.VideoID = pres.ID.String() }, course.FieldVideo, "Material is not a video"},
		{"bad start", func(e *course.MappingEntry) { e.Start = "1:5" }, course.FieldStart, "Invalid timecode format"},
		{"bad end", func(e *course.MappingEntry) { e.End = ptr("99") }, course.FieldEnd, "Invalid timecode format"},
		{"end before start", func(e *course.MappingEntry) { e.End = ptr("00:59") }, course.FieldEnd, "End timecode is before start timecode"},
	}
	for _, c := range cases {
		e := ok
		c.edit(&e)
		m, errs := course.CheckStructure(e, inNode)
		if m != nil || len(errs) != 1 || errs[0].Field != c.field || errs[0].Message != c.msg || errs[0].Hint == "" {
			t.Errorf("%s: %+v %+v", c.name, m, errs)
		}
	}
	// Every field at once: one error each, in field order.
	_, errs = course.CheckStructure(course.MappingEntry{PresentationID: "x", VideoID: "y", Start: "x", End: ptr("y")}, inNode)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if want := []string{course.FieldPresentation, course.FieldVideo, course.FieldStart, course.FieldEnd}; !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
}

// Ensure readiness blockers name the waiting checks, errors are typed
// material_error, and content checks run only for ready materials.
func TestCheckContent(t *testing.T) {
	m := &course.Mapping{SlideNumber: 4, StartSec: 100, EndSec: ptr(200)}
	pres := &course.MappingMaterial{ID: uuid.New(), State: course.StatePending, Filename: ptr("deck.pdf")}
	video := &course.MappingMaterial{ID: uuid.New(), State: course.StateIntegrityBroken}
	b, errs := course.CheckContent(m, pres, video)
	if len(errs) != 0 || len(b) != 2 {
		t.Fatalf("blockers %+v errs %+v", b, errs)
	}
	if b[0].Type != course.BlockerNotReady || !reflect.DeepEqual(b[0].BlockedChecks, []string{"slide_number"}) ||
		b[0].Message != "Presentation is not ready yet; slide number will be checked after ingestion." || *b[0].Filename != "deck.pdf" {
		t.Errorf("presentation blocker %+v", b[0])
	}
	if b[1].Type != course.BlockerError || b[1].MaterialState != course.StateIntegrityBroken ||
		!reflect.DeepEqual(b[1].BlockedChecks, []string{"video_timecode_start", "video_timecode_end"}) {
		t.Errorf("video blocker %+v", b[1])
	}
	pres.State, pres.PageCount = course.StateReady, ptr(3)
	video.State, video.Duration = course.StateReady, ptr(150.7)
	b, errs = course.CheckContent(m, pres, video)
	want := []course.MappingError{
		{Field: "slide_number", Message: "Slide number exceeds page count (3)", Hint: "Use a slide number from 1 to 3"},
		{Field: "video_timecode_end", Message: "Timecode exceeds video duration (02:30)", Hint: "Use a timecode within the video"},
	}
	if len(b) != 0 || !reflect.DeepEqual(errs, want) {
		t.Errorf("content: %+v %+v", b, errs)
	}
	m.Settle(b, errs)
	if m.State != course.MappingFailed {
		t.Errorf("state %s", m.State)
	}
	m.SlideNumber, m.EndSec = 3, ptr(150)
	b, errs = course.CheckContent(m, pres, video)
	m.Settle(b, errs)
	if m.State != course.MappingValidated || m.Errors != nil || m.Blockers != nil {
		t.Errorf("clean mapping: %+v", m)
	}
}

// Ensure a batch has 1 to 500 items whoever calls the service.
func TestCheckBatchSize(t *testing.T) {
	for n, ok := range map[int]bool{0: false, 1: true, 500: true, 501: false} {
		if err := course.CheckBatchSize(n); (err == nil) != ok || (err != nil && course.ErrorCode(err) != course.EINVALID) {
			t.Errorf("%d items: %v", n, err)
		}
	}
}

// Ensure the batch status rule: nothing rejected is accepted, some of
// each is partial, only rejections is rejected.
func TestBatchOutcome(t *testing.T) {
	one := []*course.Mapping{{}}
	rej := []course.MappingRejection{{}}
	skip := []course.MappingSkip{{}}
	for _, c := range []struct {
		b    course.MappingBatch
		want course.BatchOutcome
	}{
		{course.MappingBatch{Created: one}, course.BatchAccepted},
		{course.MappingBatch{Skipped: skip}, course.BatchAccepted},
		{course.MappingBatch{Created: one, Rejected: rej}, course.BatchPartial},
		{course.MappingBatch{Rejected: rej, Skipped: skip}, course.BatchRejected},
	} {
		if got := c.b.Outcome(); got != c.want {
			t.Errorf("%+v: %v, want %v", c.b, got, c.want)
		}
	}
}

// Ensure chunks get the validated mappings of their slide, by start, and
// nothing from pending or failed mappings or for chunks without a slide.
func TestAttachTimecodes(t *testing.T) {
	v := uuid.New()
	maps := []*course.Mapping{
		{VideoID: v, SlideNumber: 2, Start: "05:00", StartSec: 300, State: course.MappingValidated},
		{VideoID: v, SlideNumber: 2, Start: "01:00", StartSec: 60, End: ptr("02:00"), EndSec: ptr(120), State: course.MappingValidated},
		{VideoID: v, SlideNumber: 1, Start: "00:10", StartSec: 10, State: course.MappingPending},
		{VideoID: v, SlideNumber: 1, Start: "00:20", StartSec: 20, State: course.MappingFailed},
	}
	chunks := []course.Chunk{
		{Index: 0, Metadata: []byte(`{"slide_number": 1}`)},
		{Index: 1, Metadata: []byte(`{"slide_number": 2}`)},
		{Index: 2, Metadata: []byte(`{}`)},
	}
	out := course.AttachTimecodes(chunks, maps)
	if len(out) != 3 || out[0].TimecodeRefs != nil || out[2].TimecodeRefs != nil || out[2].SlideNumber != 0 {
		t.Fatalf("%+v", out)
	}
	refs := out[1].TimecodeRefs
	if len(refs) != 2 || refs[0].Start != "01:00" || *refs[0].End != "02:00" || refs[1].StartSec != 300 || refs[0].VideoMaterialID != v {
		t.Errorf("slide 2 refs %+v", refs)
	}
}

package course_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

func sp(s string) *string { return &s }

// Ensure the derived state follows the documented rule order: error,
// pending, raw, integrity_broken, ready; the first match wins.
func TestMaterialState(t *testing.T) {
	job := uuid.New()
	cases := []struct {
		name string
		m    course.Material
		want string
	}{
		{"nothing yet", course.Material{}, course.StateRaw},
		{"error wins over pending", course.Material{ErrorMessage: sp("boom"), JobID: &job}, course.StateError},
		{"empty error is no error", course.Material{ErrorMessage: sp("")}, course.StateRaw},
		{"pending wins over processed", course.Material{JobID: &job, ProcessedContent: sp("{}")}, course.StatePending},
		{"processed external", course.Material{ProcessedContent: sp("{}")}, course.StateReady},
		{"processed, same hash", course.Material{ProcessedContent: sp("{}"), RawHash: sp("a"), ProcessedRawHash: sp("a")}, course.StateReady},
		{"processed, other hash", course.Material{ProcessedContent: sp("{}"), RawHash: sp("b"), ProcessedRawHash: sp("a")}, course.StateIntegrityBroken},
		{"processed, no processed hash", course.Material{ProcessedContent: sp("{}"), RawHash: sp("b")}, course.StateIntegrityBroken},
	}
	for _, tc := range cases {
		if got := tc.m.State(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// Ensure a host matches a domain exactly or as a subdomain, whatever the
// case or a trailing dot, and never by a mere suffix.
func TestHostIn(t *testing.T) {
	domains := []string{"youtube.com", "YouTu.be"}
	for _, h := range []string{"youtube.com", "www.youtube.com", "m.YOUTUBE.com", "youtu.be", "youtube.com."} {
		if !course.HostIn(h, domains) {
			t.Errorf("%q not matched", h)
		}
	}
	for _, h := range []string{"notyoutube.com", "youtube.com.evil.net", "", "com", "tube.com"} {
		if course.HostIn(h, domains) {
			t.Errorf("%q matched", h)
		}
	}
}

// Ensure only video and web URLs outside the verified list get a warning,
// which names the host and the source type.
func TestPlatformWarnings(t *testing.T) {
	p := course.DefaultPlatforms
	if w := course.PlatformWarnings(p, course.SourceVideo, "https://www.youtube.com/watch?v=x"); len(w) != 0 {
		t.Errorf("verified video: %v", w)
	}
	w := course.PlatformWarnings(p, course.SourceWeb, "https://Example.org/page")
	want := "Platform 'example.org' is not in the verified list for 'web'. Processing may fail or produce poor results."
	if len(w) != 1 || w[0] != want {
		t.Errorf("unverified web: %v", w)
	}
	for _, tc := range []struct {
		t   course.SourceType
		url string
	}{{course.SourceText, "https://example.org/a.md"}, {course.SourcePresentation, "https://example.org/a.pdf"}, {course.SourceWeb, "::not a url"}} {
		if w := course.PlatformWarnings(p, tc.t, tc.url); w == nil || len(w) != 0 {
			t.Errorf("%s %s: %v (want an empty list)", tc.t, tc.url, w)
		}
	}
}

// Ensure the source types are listed once and in order, and only web
// refuses files.
func TestSourceTypes(t *testing.T) {
	if got := course.SourceTypeChoices(); got != "'video', 'presentation', 'text' or 'web'" {
		t.Errorf("choices %s", got)
	}
	for _, s := range course.SourceTypes {
		if !s.Valid() || s.AcceptsFiles() == (s == course.SourceWeb) {
			t.Errorf("%s", s)
		}
	}
	if course.SourceType("Video").Valid() || course.SourceType("").AcceptsFiles() {
		t.Error("unknown type accepted")
	}
}

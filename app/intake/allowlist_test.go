package intake_test

import (
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/intake"
)

func TestExtensions(t *testing.T) {
	cases := []struct {
		sourceType course.SourceType
		want       string
	}{
		{"video", "['.mp4', '.webm', '.mkv', '.avi']"},
		{"presentation", "['.pdf', '.pptx']"},
		{"text", "['.md', '.markdown', '.docx', '.html', '.htm', '.txt']"},
		{"web", "[]"},
		{"unknown", "[]"},
		{"Video", "[]"},
	}
	for _, tc := range cases {
		if got := intake.FormatAccepted(intake.Extensions(tc.sourceType)); got != tc.want {
			t.Errorf("Extensions(%q) = %s, want %s", tc.sourceType, got, tc.want)
		}
	}
}

func TestFormatAccepted(t *testing.T) {
	cases := []struct {
		in   []string
		want string
	}{
		{nil, "[]"},
		{[]string{".pdf"}, "['.pdf']"},
		{[]string{".mp4", ".webm", ".mkv", ".avi"}, "['.mp4', '.webm', '.mkv', '.avi']"},
	}
	for _, tc := range cases {
		if got := intake.FormatAccepted(tc.in); got != tc.want {
			t.Errorf("FormatAccepted(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestExt(t *testing.T) {
	cases := []struct{ name, want string }{
		{"a.PDF", ".pdf"},
		{"Lesson.Markdown", ".markdown"},
		{"x/y.tar.gz", ".gz"},
		{"noext", ""},
		{"", ""},
		{`c:\a\b.Md`, ".md"},
		{"dir.d/file", ""},
		{`dir.d\file`, ""},
		{".hidden", ".hidden"},
		{"trailing.", "."},
		{"ünï.HTM", ".htm"},
	}
	for _, tc := range cases {
		if got := intake.Ext(tc.name); got != tc.want {
			t.Errorf("Ext(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCanonicalType(t *testing.T) {
	cases := []struct{ ext, want string }{
		{".mp4", "video/mp4"},
		{".webm", "video/webm"},
		{".mkv", "video/x-matroska"},
		{".avi", "video/x-msvideo"},
		{".pdf", "application/pdf"},
		{".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{".md", "text/markdown"},
		{".markdown", "text/markdown"},
		{".html", "text/html"},
		{".htm", "text/html"},
		{".txt", "text/plain"},
		{".exe", ""},
		{"", ""},
		{"pdf", ""},
		{".PDF", ""}, // callers pass Ext's lower-cased form
	}
	for _, tc := range cases {
		if got := intake.CanonicalType(tc.ext); got != tc.want {
			t.Errorf("CanonicalType(%q) = %q, want %q", tc.ext, got, tc.want)
		}
	}
	// Every allowed extension has a type.
	for _, st := range []course.SourceType{"video", "presentation", "text"} {
		for _, ext := range intake.Extensions(st) {
			if intake.CanonicalType(ext) == "" {
				t.Errorf("%s has no canonical type", ext)
			}
		}
	}
}

// window returns a full sniff window: prefix, then ASCII filler, then tail
// at the very end.
func window(prefix, tail string) string {
	return prefix + strings.Repeat("a", intake.Window-len(prefix)-len(tail)) + tail
}

func TestMatch(t *testing.T) {
	cases := []struct {
		name string
		ext  string
		head string
		want bool
	}{
		{"mp4", ".mp4", "\x00\x00\x00\x18ftypmp42", true},
		{"mp4 too short", ".mp4", "\x00\x00\x00\x18fty", false},
		{"mp4 ftyp elsewhere", ".mp4", "ftyp\x00\x00\x00\x18", false},
		{"avi as mp4", ".mp4", "RIFF....AVI ", false},
		{"webm", ".webm", "\x1A\x45\xDF\xA3rest", true},
		{"mkv", ".mkv", "\x1A\x45\xDF\xA3", true},
		{"mkv wrong magic", ".mkv", "\x1A\x45\xDF\xA4", false},
		{"avi", ".avi", "RIFF\x00\x00\x00\x00AVI LIST", true},
		{"wav as avi", ".avi", "RIFF\x00\x00\x00\x00WAVEfmt ", false},
		{"avi too short", ".avi", "RIFF\x00\x00\x00\x00AVI", false},
		{"pdf", ".pdf", "%PDF-1.7", true},
		{"pdf without dash", ".pdf", "%PDF1.7", false},
		{"text as pdf", ".pdf", "hello", false},
		{"pptx", ".pptx", "PK\x03\x04....", true},
		{"empty zip as pptx", ".pptx", "PK\x05\x06", false},
		{"docx", ".docx", "PK\x03\x04", true},
		{"pdf as docx", ".docx", "%PDF-", false},
		{"md with BOM", ".md", "\xEF\xBB\xBF# Title\n", true},
		{"markdown", ".markdown", "# Title", true},
		{"html", ".html", "<!doctype html><p>é</p>", true},
		{"htm", ".htm", "<p>x</p>", true},
		{"txt UTF-8", ".txt", "plain \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80", true},
		{"empty text", ".txt", "", true},
		{"BOM only", ".txt", "\xEF\xBB\xBF", true},
		{"NUL", ".txt", "nul\x00byte", false},
		{"NUL after BOM", ".md", "\xEF\xBB\xBF\x00", false},
		{"UTF-16 BOM", ".txt", "\xFF\xFEh\x00i\x00", false},
		{"invalid byte", ".html", "bad \xFF\xFE utf8 here", false},
		{"overlong encoding", ".txt", "\xC0\xAF", false},
		{"surrogate", ".txt", "\xED\xA0\x80", false},
		{"rune cut at the end of a full window", ".txt", window("", "\xC3"), true},
		{"3-byte rune cut after 2 bytes", ".md", window("", "\xE2\x82"), true},
		{"4-byte rune cut after 3 bytes", ".md", window("", "\xF0\x9F\x98"), true},
		{"invalid byte at the end of a full window", ".txt", window("", "\xFF"), false},
		{"bad continuation at the end of a full window", ".txt", window("", "\xE2\x28"), false},
		{"rune cut at the end of a short file", ".txt", "cut rune \xC3", false},
		{"NUL beyond the window is not looked at", ".txt", window("", "") + "\x00", true},
		{"NUL at the window's last byte", ".txt", window("", "\x00"), false},
		{"unknown extension", ".exe", "MZ", false},
		{"no extension", "", "text", false},
		{"web has no files", ".url", "https://x", false},
	}
	for _, tc := range cases {
		if got := intake.Match(tc.ext, []byte(tc.head)); got != tc.want {
			t.Errorf("%s: Match(%s, %.40q) = %v, want %v", tc.name, tc.ext, tc.head, got, tc.want)
		}
	}
}

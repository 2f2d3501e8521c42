package sniff_test

import (
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/sniff"
)

func TestExtensionsAndTypes(t *testing.T) {
	if got := sniff.FormatAccepted(sniff.Extensions("text")); got != "['.md', '.markdown', '.docx', '.html', '.htm', '.txt']" {
		t.Fatalf("text: %s", got)
	}
	if got := sniff.FormatAccepted(sniff.Extensions("video")); got != "['.mp4', '.webm', '.mkv', '.avi']" {
		t.Fatalf("video: %s", got)
	}
	if len(sniff.Extensions("web")) != 0 {
		t.Fatal("web accepts no files")
	}
	for name, want := range map[string]string{"a.PDF": ".pdf", "x/y.tar.gz": ".gz", "noext": "", `c:\a\b.Md`: ".md", "dir.d/file": ""} {
		if got := sniff.Ext(name); got != want {
			t.Errorf("Ext(%q) = %q, want %q", name, got, want)
		}
	}
	if sniff.CanonicalType(".pptx") != "application/vnd.openxmlformats-officedocument.presentationml.presentation" || sniff.CanonicalType(".exe") != "" {
		t.Fatal("canonical types")
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		ext  string
		head string
		want bool
	}{
		{".mp4", "\x00\x00\x00\x18ftypmp42", true},
		{".mp4", "RIFF....AVI ", false},
		{".webm", "\x1A\x45\xDF\xA3rest", true},
		{".mkv", "\x1A\x45\xDF\xA3rest", true},
		{".avi", "RIFF\x00\x00\x00\x00AVI LIST", true},
		{".pdf", "%PDF-1.7", true},
		{".pdf", "hello", false},
		{".pptx", "PK\x03\x04....", true},
		{".docx", "%PDF-", false},
		{".md", "\xEF\xBB\xBF# Title\n", true},
		{".txt", "plain \xC3\xA9t\xC3\xA9", true},
		{".txt", "cut rune \xC3", true},
		{".txt", "nul\x00byte", false},
		{".html", "bad \xFF\xFE utf8 here", false},
		{".exe", "MZ", false},
	}
	for _, tc := range cases {
		if got := sniff.Match(tc.ext, []byte(tc.head)); got != tc.want {
			t.Errorf("Match(%s, %q) = %v, want %v", tc.ext, tc.head, got, tc.want)
		}
	}
}

func TestSafeFilename(t *testing.T) {
	cases := map[string]string{
		"../../etc/passwd":      "passwd",
		`C:\Users\x\Deck 1.pdf`: "Deck_1.pdf",
		"...hidden.md":          "hidden.md",
		"a  b\t\nc.txt":         "a_b_c.txt",
		"résumé.docx":           "r_sum_.docx",
		"":                      "upload",
		"/":                     "upload",
		"Ω":                     "upload",
	}
	for in, want := range cases {
		if got := sniff.SafeFilename(in); got != want {
			t.Errorf("SafeFilename(%q) = %q, want %q", in, got, want)
		}
	}
	long := sniff.SafeFilename(strings.Repeat("a", 500) + ".pdf")
	if len(long) != 200 || !strings.HasSuffix(long, ".pdf") {
		t.Fatalf("long name: %d %q", len(long), long[len(long)-8:])
	}
}

// FuzzSafeFilename ensures no input yields a dangerous key segment.
func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"a.pdf", "../x", "\x00", "..", "a/b\\c", strings.Repeat("é", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := sniff.SafeFilename(in)
		if out == "" || len(out) > 200 || strings.ContainsAny(out, "/\\") || strings.HasPrefix(out, ".") {
			t.Fatalf("SafeFilename(%q) = %q", in, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", out)
			}
		}
	})
}

package intake_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/course-supporter/course-supporter/app/intake"
)

func TestSafeFilename(t *testing.T) {
	long := strings.Repeat("a", 500)
	cases := []struct{ in, want string }{
		{"deck.pdf", "deck.pdf"},
		{"Deck-Final_v2.PDF", "Deck-Final_v2.PDF"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\Deck 1.pdf`, "Deck_1.pdf"},
		{`a/b\c.md`, "c.md"},
		{"...hidden.md", "hidden.md"},
		{".env", "env"},
		{"a  b\t\nc.txt", "a_b_c.txt"},
		{"a__b___c", "a_b_c"},
		{"résumé.docx", "r_sum_.docx"},
		{"日本語.txt", "_.txt"},
		{"x\xff\xfey.txt", "x_y.txt"},
		{"semi;colon&amp.html", "semi_colon_amp.html"},
		{"", "upload"},
		{"/", "upload"},
		{"dir/", "dir"},
		{".", "upload"},
		{"..", "upload"},
		{"...", "upload"},
		{"Ω", "upload"},
		{"\x00", "upload"},
		{long + ".pdf", long[:196] + ".pdf"},
		{long + ".markdown", long[:191] + ".markdown"},
		{long, long[:200]},
		{"a." + long, "a." + long[:198]}, // an "extension" too long to keep
		{strings.Repeat("é", 300) + ".md", "_.md"},
	}
	for _, tc := range cases {
		if got := intake.SafeFilename(tc.in); got != tc.want {
			t.Errorf("SafeFilename(%.60q) = %.60q, want %.60q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeFilename checks that no input yields a dangerous or malformed
// key segment. The seed corpus is in testdata/fuzz/FuzzSafeFilename.
func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"a.pdf", "../x", "\x00", "..", "a/b\\c", strings.Repeat("é", 300), strings.Repeat("x", 199) + ".pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := intake.SafeFilename(in)
		if out == "" || len(out) > 200 || strings.ContainsAny(out, "/\\") || strings.HasPrefix(out, ".") {
			t.Fatalf("SafeFilename(%q) = %q", in, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", out)
			}
		}
		if !utf8.ValidString(out) || strings.Contains(out, "__") || strings.IndexFunc(out, notAllowed) >= 0 {
			t.Fatalf("SafeFilename(%q) = %q: outside [A-Za-z0-9._-] or a run of _", in, out)
		}
		if again := intake.SafeFilename(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
	})
}

func notAllowed(r rune) bool {
	return !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", r)
}

package intake

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/course-supporter/course-supporter/app/course"
)

type kind struct {
	ext, contentType string
	match            func([]byte) bool
}

var (
	zip  = func(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }
	ebml = func(b []byte) bool { return bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}) }
)

// allowlist is the table of accepted files per source type, in its order
// (docs/design/uploads-and-storage.md, "Accepted files"). Web materials
// are URLs only, so they have no entry.
var allowlist = map[course.SourceType][]kind{
	course.SourceVideo: {
		{".mp4", "video/mp4", func(b []byte) bool { return len(b) >= 8 && string(b[4:8]) == "ftyp" }},
		{".webm", "video/webm", ebml},
		{".mkv", "video/x-matroska", ebml},
		{".avi", "video/x-msvideo", func(b []byte) bool {
			return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "AVI "
		}},
	},
	course.SourcePresentation: {
		{".pdf", "application/pdf", func(b []byte) bool { return bytes.HasPrefix(b, []byte("%PDF-")) }},
		{".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", zip},
	},
	course.SourceText: {
		{".md", "text/markdown", isText},
		{".markdown", "text/markdown", isText},
		{".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", zip},
		{".html", "text/html", isText},
		{".htm", "text/html", isText},
		{".txt", "text/plain", isText},
	},
}

func find(ext string) *kind {
	for _, ks := range allowlist {
		for i := range ks {
			if ks[i].ext == ext {
				return &ks[i]
			}
		}
	}
	return nil
}

// Extensions lists the accepted extensions of a source type, in table order.
func Extensions(sourceType course.SourceType) []string {
	var out []string
	for _, k := range allowlist[sourceType] {
		out = append(out, k.ext)
	}
	return out
}

// Ext is the lower-cased suffix after the last dot, with the dot; "" when
// the name has none.
func Ext(filename string) string {
	base := filename[strings.LastIndexAny(filename, `/\`)+1:]
	i := strings.LastIndex(base, ".")
	if i < 0 {
		return ""
	}
	return strings.ToLower(base[i:])
}

// CanonicalType is the content type stored for an extension ("" if unknown).
func CanonicalType(ext string) string {
	if k := find(ext); k != nil {
		return k.contentType
	}
	return ""
}

// Window is how many first bytes of a file the signature check looks at.
const Window = 4096

// Match reports whether the first bytes of a file fit its extension: head
// is the file's first Window bytes, or the whole file when it is shorter
// (bytes beyond Window are ignored). An unknown extension never matches.
func Match(ext string, head []byte) bool {
	k := find(ext)
	if len(head) > Window {
		head = head[:Window]
	}
	return k != nil && k.match(head)
}

// isText accepts valid UTF-8 (BOM allowed) without NUL bytes. A rune cut
// by the end of a full window is fine (the file goes on); at the end of a
// shorter head the file itself ends there, so it is invalid.
func isText(b []byte) bool {
	full := len(b) == Window
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return full && len(b) < utf8.UTFMax && !utf8.FullRune(b)
		}
		b = b[size:]
	}
	return true
}

// FormatAccepted renders a list as in the error messages: ['.md', '.txt'].
func FormatAccepted(exts []string) string {
	quoted := make([]string, len(exts))
	for i, e := range exts {
		quoted[i] = "'" + e + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

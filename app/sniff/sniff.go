// Package sniff holds the upload rules that need no I/O: the extension
// allowlist per source type, canonical content types, signature checks on
// the first bytes of a file, and safe object-key filenames.
package sniff

import (
	"bytes"
	"path"
	"strings"
	"unicode/utf8"
)

type kind struct {
	ext, contentType string
	match            func([]byte) bool
}

var (
	zip  = func(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }
	ebml = func(b []byte) bool { return bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}) }
)

// allowlist is the table of uploads-and-storage §3, in its order.
var allowlist = map[string][]kind{
	"video": {
		{".mp4", "video/mp4", func(b []byte) bool { return len(b) >= 8 && string(b[4:8]) == "ftyp" }},
		{".webm", "video/webm", ebml},
		{".mkv", "video/x-matroska", ebml},
		{".avi", "video/x-msvideo", func(b []byte) bool {
			return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "AVI "
		}},
	},
	"presentation": {
		{".pdf", "application/pdf", func(b []byte) bool { return bytes.HasPrefix(b, []byte("%PDF-")) }},
		{".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", zip},
	},
	"text": {
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
func Extensions(sourceType string) []string {
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

// maxFilename bounds the filename part of an object key, in bytes.
const maxFilename = 200

// SafeFilename makes a client filename safe for an object key: basename
// only, characters outside [A-Za-z0-9._-] replaced by '_', runs of '_'
// collapsed, leading dots removed, at most 200 bytes keeping the
// extension; "upload" when nothing is left.
func SafeFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, r := range name {
		ok := r < utf8.RuneSelf && (r == '.' || r == '-' || r == '_' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
		if !ok {
			r = '_'
		}
		if r == '_' && strings.HasSuffix(b.String(), "_") {
			continue
		}
		b.WriteRune(r)
	}
	out := strings.TrimLeft(b.String(), ".")
	if len(out) > maxFilename {
		ext := Ext(out)
		if len(ext) > 20 {
			ext = ""
		}
		out = out[:maxFilename-len(ext)] + ext
	}
	if out == "" || out == "_" {
		return "upload"
	}
	return out
}

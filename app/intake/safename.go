package intake

import (
	"path"
	"strings"
	"unicode/utf8"
)

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

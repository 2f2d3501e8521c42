package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Append-style JSON writers for the hot read paths. encoding/json walks
// the DTO by reflection and compacts every MarshalJSON result again; on
// the tree endpoint that was a quarter of the app's CPU
// (docs/performance.md). These produce the bytes huma's JSON format
// (encoding/json, HTML escaping off) produces for the same value: the
// tests compare them on tricky strings.

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes encoding/json copies as they are with
// HTML escaping off: every printable byte except '"' and '\\', and DEL.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string, escaped exactly as
// encoding/json does without HTML escaping: short escapes for \b \f \n \r
// \t, \u00XX for other control bytes, \ufffd for each invalid UTF-8 byte,
// and \u2028 / \u2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(s[i:i+8]) { // the common case: 8 bytes to copy as they are
			i += 8
			continue
		}
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plain8 reports whether none of the 8 bytes of s needs escaping: none
// is below 0x20, '"', '\\' or non-ASCII. Word-at-a-time tests: (x - n*ones)
// &^ x sets a byte's high bit when that byte is below n (or zero after an
// XOR with the byte sought); x's own high bits flag non-ASCII bytes.
func plain8(s string) bool {
	_ = s[7]
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	control := (x - ones*0x20) &^ x
	return (control|(quote-ones)&^quote|(backslash-ones)&^backslash|x)&highs == 0
}

// appendJSONStringPtr appends *s, or null.
func appendJSONStringPtr(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendJSONString(dst, *s)
}

// appendJSONStrings appends a string list; nil is null, empty is [].
func appendJSONStrings(dst []byte, list []string) []byte {
	if list == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// appendJSONUUID appends id quoted, in uuid.UUID.String's form.
func appendJSONUUID(dst []byte, id uuid.UUID) []byte {
	var buf [38]byte
	buf[0], buf[37] = '"', '"'
	j := 1
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf[j] = '-'
			j++
		}
		buf[j], buf[j+1] = hexDigits[b>>4], hexDigits[b&0xF]
		j += 2
	}
	return append(dst, buf[:]...)
}

// appendJSONUUIDPtr appends *id, or null.
func appendJSONUUIDPtr(dst []byte, id *uuid.UUID) []byte {
	if id == nil {
		return append(dst, "null"...)
	}
	return appendJSONUUID(dst, *id)
}

// appendJSONInt appends n.
func appendJSONInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

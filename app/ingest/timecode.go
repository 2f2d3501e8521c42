package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadTimecode reports a malformed timecode.
var ErrBadTimecode = errors.New("invalid timecode")

// ParseTimecode parses "MM:SS" or "HH:MM:SS" into seconds. The leading
// field has 1–2 digits (MM) or 1–3 digits (HH); the others exactly 2.
// Minutes and seconds must be below 60; signs, spaces and fractions are
// rejected.
func ParseTimecode(s string) (int, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, fmt.Errorf("%w %q: want MM:SS or HH:MM:SS", ErrBadTimecode, s)
	}
	maxLead := 2
	if len(parts) == 3 {
		maxLead = 3
	}
	vals := make([]int, len(parts))
	for i, p := range parts {
		width := len(p)
		if (i == 0 && (width < 1 || width > maxLead)) || (i > 0 && width != 2) {
			return 0, fmt.Errorf("%w %q: bad field width", ErrBadTimecode, s)
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w %q: non-digit", ErrBadTimecode, s)
			}
			vals[i] = vals[i]*10 + int(c-'0')
		}
	}
	hours, minutes, seconds := 0, vals[0], vals[1]
	if len(vals) == 3 {
		hours, minutes, seconds = vals[0], vals[1], vals[2]
	}
	if minutes >= 60 || seconds >= 60 {
		return 0, fmt.Errorf("%w %q: minutes and seconds must be below 60", ErrBadTimecode, s)
	}
	return hours*3600 + minutes*60 + seconds, nil
}

// FormatTimecode renders seconds as MM:SS, or HH:MM:SS from one hour on.
func FormatTimecode(sec int) string {
	if sec < 0 {
		sec = 0
	}
	if sec >= 3600 {
		return fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%02d:%02d", sec/60, sec%60)
}

package api

import (
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Timestamp renders as RFC 3339 in UTC with an explicit +00:00 offset and
// microseconds, the format of the API contract.
//
// It is a text marshaler, not a json.Marshaler: encoding/json re-scans and
// compacts every MarshalJSON result, which cost more than formatting the
// time (docs/performance.md); a MarshalText result is only quoted.
type Timestamp time.Time

const timestampLayout = "2006-01-02T15:04:05.000000-07:00"

// MarshalText implements encoding.TextMarshaler.
func (t Timestamp) MarshalText() ([]byte, error) {
	return t.AppendText(make([]byte, 0, len(timestampLayout)))
}

// AppendText implements encoding.TextAppender: the layout above, written
// digit by digit (time.Format interprets its layout on every call).
func (t Timestamp) AppendText(b []byte) ([]byte, error) {
	u := time.Time(t).UTC()
	year, month, day := u.Date()
	if year < 0 || year > 9999 {
		return u.AppendFormat(b, timestampLayout), nil
	}
	hour, minute, sec := u.Clock()
	buf := [...]byte{'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0', '0', ':', '0', '0', ':', '0', '0',
		'.', '0', '0', '0', '0', '0', '0', '+', '0', '0', ':', '0', '0'}
	putDigits(buf[0:4], year)
	putDigits(buf[5:7], int(month))
	putDigits(buf[8:10], day)
	putDigits(buf[11:13], hour)
	putDigits(buf[14:16], minute)
	putDigits(buf[17:19], sec)
	putDigits(buf[20:26], u.Nanosecond()/1000) // truncated, as Format does
	return append(b, buf[:]...), nil
}

// appendJSONTimestamp appends t as a JSON string.
func appendJSONTimestamp(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst, _ = Timestamp(t).AppendText(dst)
	return append(dst, '"')
}

// putDigits writes the len(b) lowest decimal digits of n (n >= 0) into b,
// zero-padded.
func putDigits(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}

// Schema documents the type as a date-time string.
func (Timestamp) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date-time", Examples: []any{"2026-03-08T12:00:00.123456+00:00"}}
}

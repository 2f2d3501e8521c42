package api

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDelimiterWatchAcrossReads(t *testing.T) {
	const b = "BOUNDARY"
	cases := map[string]bool{
		"--BOUNDARY\r\nx\r\n--BOUNDARY--":         true,
		"--BOUNDARY\r\nx\r\n--BOUNDARY--\r\ntail": true,
		"--BOUNDARY\r\nx\r\n--BOUNDARY-":          false,
		"--BOUNDARY\r\n":                          false,
		"--OTHER--":                               false,
	}
	for body, want := range cases {
		for name, r := range map[string]io.Reader{
			"whole":    strings.NewReader(body),
			"one byte": iotest.OneByteReader(strings.NewReader(body)),
			"halves":   iotest.HalfReader(strings.NewReader(body)),
		} {
			w := newDelimiterWatch(r, b)
			if _, err := io.Copy(io.Discard, w); err != nil {
				t.Fatal(err)
			}
			if w.seen != want {
				t.Errorf("%q read %s: seen = %v, want %v", body, name, w.seen, want)
			}
		}
	}
}

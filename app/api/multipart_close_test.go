package api

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// The watch passes io.EOF on only when the body's last line is the close
// delimiter (with trailing blanks), however the body is split into reads;
// every other end is io.ErrUnexpectedEOF, which mime/multipart reports as
// a broken body. A close delimiter with a line break after it needs no
// watch (mime/multipart ends the form on that line, TestMalformedMultipartBodies),
// so what matters here is that truncations never end in io.EOF.
func TestDelimiterWatchAcrossReads(t *testing.T) {
	const b = "BOUNDARY"
	cases := map[string]bool{
		"--BOUNDARY\r\nx\r\n--BOUNDARY--":            true,
		"--BOUNDARY\r\nx\r\n--BOUNDARY-- \t":         true,
		"--BOUNDARY--":                               true,
		strings.Repeat("y", 9000) + "\n--BOUNDARY--": true,
		"--BOUNDARY\r\nx\r\n--BOUNDARY-":             false,
		"--BOUNDARY\r\nx\r\n--BOUNDARY--\r":          false,
		"--BOUNDARY\r\nx\r\n--BOUNDARY--x":           false,
		"--BOUNDARY\r\n":                             false,
		"--BOUNDARY\r\nContent-Type: a/b\r\n":        false,
		"--BOUNDARY--\r\n--BOUNDARY\r\n":             false,
		"x--BOUNDARY--":                              false,
		"--OTHER--":                                  false,
		"":                                           false,
		strings.Repeat("-", 5000) + "BOUNDARY--":     false,
		"--BOUNDARY--" + strings.Repeat(" ", 5000):   false,
	}
	for body, closed := range cases {
		for name, r := range map[string]io.Reader{
			"whole":    strings.NewReader(body),
			"one byte": iotest.OneByteReader(strings.NewReader(body)),
			"halves":   iotest.HalfReader(strings.NewReader(body)),
		} {
			got, err := io.ReadAll(newDelimiterWatch(r, b))
			if string(got) != body {
				t.Fatalf("%.40q read %s: passed %.40q", body, name, got)
			}
			if closed && err != nil {
				t.Errorf("%.40q read %s: %v, want io.EOF", body, name, err)
			}
			if !closed && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%.40q read %s: %v, want io.ErrUnexpectedEOF", body, name, err)
			}
		}
	}
}

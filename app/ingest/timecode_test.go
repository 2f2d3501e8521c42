package ingest

import (
	"errors"
	"testing"
)

func TestParseTimecode(t *testing.T) {
	good := map[string]int{
		"00:00": 0, "0:05": 5, "12:34": 754, "59:59": 3599,
		"00:00:00": 0, "1:02:03": 3723, "10:00:00": 36000, "123:59:59": 446399,
	}
	for in, want := range good {
		got, err := ParseTimecode(in)
		if err != nil || got != want {
			t.Errorf("ParseTimecode(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", ":", "5", "60:00", "00:60", "1:60:00", "1:00:60", "-1:00", "1:-5", "+1:00",
		"1:5", "1:005", "123:00", "1234:00:00", "01:02:03:04", " 1:00", "1:00 ", "1.5:00",
		"1:0a", "١:٠٠", "99999999999999999999:00",
	} {
		if got, err := ParseTimecode(in); !errors.Is(err, ErrBadTimecode) {
			t.Errorf("ParseTimecode(%q) = %d, %v; want ErrBadTimecode", in, got, err)
		}
	}
}

func TestFormatTimecodeRoundTrip(t *testing.T) {
	for _, s := range []int{0, 59, 60, 3599, 3600, 3723, 446399} {
		got, err := ParseTimecode(FormatTimecode(s))
		if err != nil || got != s {
			t.Errorf("round trip %d -> %q -> %d, %v", s, FormatTimecode(s), got, err)
		}
	}
	if FormatTimecode(-3) != "00:00" {
		t.Error("negative seconds not clamped")
	}
}

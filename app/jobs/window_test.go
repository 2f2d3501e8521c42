package jobs

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone below resolves on any host, as in the binary
)

func TestWindowNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	night := Window{Enabled: true, Start: 2 * time.Hour, End: 6*time.Hour + 30*time.Minute, Loc: time.UTC}
	span := Window{Enabled: true, Start: 22 * time.Hour, End: 4 * time.Hour, Loc: berlin}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		w    Window
		at   string
		want string
	}{
		{"disabled", Window{}, "2026-11-25T12:00:00Z", "2026-11-25T12:00:00Z"},
		{"inside", night, "2026-11-25T03:00:00Z", "2026-11-25T03:00:00Z"},
		{"at start", night, "2026-11-25T02:00:00Z", "2026-11-25T02:00:00Z"},
		{"at end is outside", night, "2026-11-25T06:30:00Z", "2026-11-26T02:00:00Z"},
		{"before start", night, "2026-11-25T01:59:00Z", "2026-11-25T02:00:00Z"},
		{"after end", night, "2026-11-25T12:00:00Z", "2026-11-26T02:00:00Z"},
		// Berlin is UTC+1 in November: 22:00–04:00 local is 21:00–03:00 UTC.
		{"midnight span, late", span, "2026-11-25T22:30:00Z", "2026-11-25T22:30:00Z"},
		{"midnight span, early", span, "2026-11-26T02:30:00Z", "2026-11-26T02:30:00Z"},
		{"midnight span, day", span, "2026-11-26T12:00:00Z", "2026-11-26T21:00:00Z"},
	}
	for _, c := range cases {
		if got := c.w.Next(utc(c.at)); !got.Equal(utc(c.want)) {
			t.Errorf("%s: Next(%s) = %s, want %s", c.name, c.at, got.UTC().Format(time.RFC3339), c.want)
		}
	}
}

func TestBackoffIsDeterministicWithBoundedJitter(t *testing.T) {
	b := backoff{base: 30 * time.Second}
	seen := map[time.Duration]bool{}
	for id := int64(1); id <= 50; id++ {
		for attempt := 1; attempt <= 4; attempt++ {
			d := b.delay(id, attempt)
			if d != b.delay(id, attempt) {
				t.Fatalf("delay(%d,%d) not deterministic", id, attempt)
			}
			nominal := time.Duration(float64(30*time.Second) * pow4(attempt-1))
			if nominal > time.Hour {
				nominal = time.Hour
			}
			lo, hi := time.Duration(float64(nominal)*0.9), time.Duration(float64(nominal)*1.1)
			if d < lo || d > hi {
				t.Fatalf("delay(%d,%d) = %s, want within ±10%% of %s", id, attempt, d, nominal)
			}
			seen[d] = true
		}
	}
	if len(seen) < 100 {
		t.Fatalf("jitter too uniform: %d distinct delays of 200", len(seen))
	}
	if d := b.delay(7, 30); d > time.Hour+time.Hour/10 {
		t.Fatalf("cap not applied: %s", d)
	}
}

func pow4(n int) float64 {
	v := 1.0
	for range n {
		v *= 4
	}
	return v
}

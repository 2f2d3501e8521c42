package jobs

import (
	"testing"
	"time"
)

// Ensure the daily schedule fires at the local wall-clock time of its zone:
// later the same day, else the next day, and across both daylight-saving
// changes exactly once a day (23 h and 25 h apart in UTC).
func TestDailyAtNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	sched := DailyAt{At: 3*time.Hour + 30*time.Minute, Loc: berlin}
	cases := []struct{ now, want string }{
		{"2026-06-10T01:00:00+02:00", "2026-06-10T03:30:00+02:00"}, // later today
		{"2026-06-10T03:30:00+02:00", "2026-06-11T03:30:00+02:00"}, // exactly now: tomorrow
		{"2026-06-10T23:59:00+02:00", "2026-06-11T03:30:00+02:00"},
		{"2026-06-10T23:30:00Z", "2026-06-11T03:30:00+02:00"},      // UTC evening is already Berlin's next day
		{"2026-03-28T04:00:00+01:00", "2026-03-29T03:30:00+02:00"}, // spring forward: 23 h later
		{"2026-10-24T04:00:00+02:00", "2026-10-25T03:30:00+01:00"}, // fall back: 25 h later
	}
	for _, c := range cases {
		now, _ := time.Parse(time.RFC3339, c.now)
		want, _ := time.Parse(time.RFC3339, c.want)
		if got := sched.Next(now); !got.Equal(want) {
			t.Errorf("Next(%s) = %s, want %s", c.now, got, c.want)
		}
	}
	// A time inside the spring gap (02:30 does not exist on 2026-03-29):
	// one run that day, none skipped, none doubled.
	gap := DailyAt{At: 2*time.Hour + 30*time.Minute, Loc: berlin}
	now, _ := time.Parse(time.RFC3339, "2026-03-28T12:00:00+01:00")
	first := gap.Next(now)
	second := gap.Next(first)
	if first.In(berlin).Day() != 29 || second.In(berlin).Day() != 30 || second.In(berlin).Hour() != 2 {
		t.Fatalf("gap day: %s then %s", first.In(berlin), second.In(berlin))
	}
	if got := (DailyAt{At: 3*time.Hour + 30*time.Minute}).Next(now); !got.Equal(time.Date(2026, 3, 29, 3, 30, 0, 0, time.UTC)) {
		t.Fatalf("nil zone is UTC: %s", got)
	}
}

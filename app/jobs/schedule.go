package jobs

import "time"

// DailyAt is a river.PeriodicSchedule that fires once a day at a wall-clock
// time of a zone (the orphan sweep at 03:30 in WORKER_HEAVY_WINDOW_TZ).
// River's interval schedules count from the leader's start, so a daily job
// would drift with every restart; this one lands on the same local time
// whatever the restarts and daylight-saving changes.
type DailyAt struct {
	At  time.Duration // offset from local midnight, below 24 h
	Loc *time.Location
}

// Next returns the first time after current whose local clock reads At.
// On a day that skips At (a daylight-saving gap) the run happens at the
// same instant the clock would have shown At had it not jumped (time.Date's
// normalisation), so every day still has exactly one run.
func (d DailyAt) Next(current time.Time) time.Time {
	loc := d.Loc
	if loc == nil {
		loc = time.UTC
	}
	local := current.In(loc)
	h, m := int(d.At/time.Hour), int(d.At%time.Hour/time.Minute)
	s := int(d.At % time.Minute / time.Second)
	for day := 0; ; day++ {
		t := time.Date(local.Year(), local.Month(), local.Day()+day, h, m, s, 0, loc)
		if t.After(current) {
			return t
		}
	}
}

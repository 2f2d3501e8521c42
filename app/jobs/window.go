package jobs

import (
	"time"
)

// Window is the optional heavy-work window (docs/design/jobs.md,
// "Heavy-work window"): normal-priority
// ingest jobs run only inside [Start, End) local time. Start > End spans
// midnight. The zero Window is disabled.
type Window struct {
	Enabled bool
	Start   time.Duration // offset from local midnight
	End     time.Duration
	Loc     *time.Location
}

// Next returns t when t lies inside the window (or the window is
// disabled), else the next window start after t.
func (w Window) Next(t time.Time) time.Time {
	if !w.Enabled || w.Start == w.End {
		return t
	}
	loc := w.Loc
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	// Clock offset, not elapsed time: days with a DST change are not 24 h.
	off := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	inside := off >= w.Start && off < w.End
	if w.Start > w.End {
		inside = off >= w.Start || off < w.End
	}
	if inside {
		return t
	}
	start := at(midnight, w.Start, loc)
	if !start.After(t) {
		start = at(midnight.AddDate(0, 0, 1), w.Start, loc)
	}
	return start
}

// at is the wall-clock time off after midnight on day d.
func at(d time.Time, off time.Duration, loc *time.Location) time.Time {
	h, m := int(off/time.Hour), int(off%time.Hour/time.Minute)
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc)
}

// applies reports whether the window governs a job of this kind and
// priority: only normal-priority ingest jobs wait for it.
func (w Window) applies(kind string, priority int) bool {
	return w.Enabled && kind == KindIngest && priority != PriorityImmediate
}

package config

import "time"

// Maintenance holds the schedules of the leader-only maintenance jobs
// (storage_orphan_sweep, housekeeping) and how long River keeps finished
// jobs (docs/operations/limits.md, "Storage and queue maintenance").
type Maintenance struct {
	// SweepAt is STORAGE_SWEEP_TIME, the daily local time of the orphan
	// sweep in WORKER_HEAVY_WINDOW_TZ (inside the default heavy window).
	SweepAt time.Duration
	// OrphanGrace is STORAGE_ORPHAN_GRACE: objects and multipart uploads
	// younger than this are never swept, whatever the database says.
	OrphanGrace time.Duration
	// ConfirmWithin is how old a presigned upload may be when it is
	// confirmed: the grace less a margin (an hour, or half of a shorter
	// grace) for clock skew and commit latency, so a confirmation never
	// races the sweep. Derived, not a variable.
	ConfirmWithin time.Duration
	// HousekeepingInterval is HOUSEKEEPING_INTERVAL.
	HousekeepingInterval time.Duration
	// RateLimitIdle and HeartbeatMaxAge are what housekeeping deletes:
	// rate-limit rows idle that long (the window is 61 s, so they count
	// nothing) and heartbeats of workers gone that long. Fixed.
	RateLimitIdle   time.Duration
	HeartbeatMaxAge time.Duration
	// River's cleaner deletes finished River rows after these
	// (RIVER_COMPLETED_JOB_RETENTION, RIVER_CANCELLED_JOB_RETENTION,
	// RIVER_DISCARDED_JOB_RETENTION); business jobs rows are kept.
	CompletedRetention time.Duration
	CancelledRetention time.Duration
	DiscardedRetention time.Duration
}

// minOrphanGrace keeps the sweep well clear of uploads in progress and of
// presigned uploads (valid 15 min) awaiting their confirmation.
const minOrphanGrace = time.Hour

func (l *loader) loadMaintenance(staleAfter time.Duration) Maintenance {
	m := Maintenance{
		SweepAt:              l.clock("STORAGE_SWEEP_TIME", 3*time.Hour+30*time.Minute),
		OrphanGrace:          l.duration("STORAGE_ORPHAN_GRACE", 24*time.Hour),
		HousekeepingInterval: l.duration("HOUSEKEEPING_INTERVAL", time.Hour),
		RateLimitIdle:        time.Hour,
		HeartbeatMaxAge:      24 * time.Hour,
		CompletedRetention:   l.duration("RIVER_COMPLETED_JOB_RETENTION", 24*time.Hour),
		CancelledRetention:   l.duration("RIVER_CANCELLED_JOB_RETENTION", 7*24*time.Hour),
		DiscardedRetention:   l.duration("RIVER_DISCARDED_JOB_RETENTION", 7*24*time.Hour),
	}
	if m.OrphanGrace < minOrphanGrace {
		l.fail("STORAGE_ORPHAN_GRACE", "must be at least %s", minOrphanGrace)
	}
	m.ConfirmWithin = m.OrphanGrace - min(time.Hour, m.OrphanGrace/2)
	if m.HousekeepingInterval < time.Minute {
		l.fail("HOUSEKEEPING_INTERVAL", "must be at least 1m")
	}
	if m.HeartbeatMaxAge <= staleAfter {
		l.fail("WORKER_STALE_AFTER", "must be below %s (heartbeats are deleted after that)", m.HeartbeatMaxAge)
	}
	for _, r := range []struct {
		name string
		d    time.Duration
	}{
		{"RIVER_COMPLETED_JOB_RETENTION", m.CompletedRetention},
		{"RIVER_CANCELLED_JOB_RETENTION", m.CancelledRetention},
		{"RIVER_DISCARDED_JOB_RETENTION", m.DiscardedRetention},
	} {
		if r.d < time.Minute {
			l.fail(r.name, "must be at least 1m")
		}
	}
	return m
}

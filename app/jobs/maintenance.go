package jobs

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
)

// MaintenanceDeps are what the storage_orphan_sweep and housekeeping
// workers need; a nil Runner deps.Maintenance leaves both off (tests of
// other queues).
type MaintenanceDeps struct {
	Objects     course.StorageSweeper
	Refs        course.StorageReferences
	Housekeeper course.Housekeeper
}

// MaintenanceOptions are the schedules and thresholds of the maintenance
// jobs and River's retention of finished jobs, all from app/config
// (docs/operations/limits.md, "Storage and queue maintenance").
type MaintenanceOptions struct {
	// SweepAt and SweepLoc: the sweep runs daily at this local time
	// (STORAGE_SWEEP_TIME in WORKER_HEAVY_WINDOW_TZ).
	SweepAt  time.Duration
	SweepLoc *time.Location
	// OrphanGrace is STORAGE_ORPHAN_GRACE: younger objects and multipart
	// uploads are never touched.
	OrphanGrace time.Duration
	// HousekeepingInterval is HOUSEKEEPING_INTERVAL; RateLimitIdle and
	// HeartbeatMaxAge what housekeeping deletes.
	HousekeepingInterval time.Duration
	RateLimitIdle        time.Duration
	HeartbeatMaxAge      time.Duration
	// River's cleaner deletes finished River rows after these
	// (RIVER_*_JOB_RETENTION); business jobs rows are kept.
	CompletedRetention time.Duration
	CancelledRetention time.Duration
	DiscardedRetention time.Duration
}

func (o MaintenanceOptions) positive() []option {
	return []option{
		{"Maintenance.OrphanGrace", o.OrphanGrace > 0},
		{"Maintenance.HousekeepingInterval", o.HousekeepingInterval > 0},
		{"Maintenance.RateLimitIdle", o.RateLimitIdle > 0},
		{"Maintenance.HeartbeatMaxAge", o.HeartbeatMaxAge > 0},
		{"Maintenance.CompletedRetention", o.CompletedRetention > 0},
		{"Maintenance.CancelledRetention", o.CancelledRetention > 0},
		{"Maintenance.DiscardedRetention", o.DiscardedRetention > 0},
		{"Maintenance.SweepLoc", o.SweepLoc != nil},
		{"Maintenance.SweepAt", o.SweepAt >= 0 && o.SweepAt < 24*time.Hour},
	}
}

// registerMaintenance adds the sweep and housekeeping workers and their
// periodic jobs. Periodic jobs are inserted by River's elected leader
// only, so each runs once per period however many workers there are.
func registerMaintenance(workers *river.Workers, queues map[string]river.QueueConfig, periodic *[]*river.PeriodicJob, deps Deps, o MaintenanceOptions) error {
	m := deps.Maintenance
	if m == nil {
		return nil
	}
	queues[QueueSweep] = river.QueueConfig{MaxWorkers: 1}
	if err := river.AddWorkerSafely(workers, &OrphanSweepWorker{Store: m.Objects, Refs: m.Refs, Grace: o.OrphanGrace,
		Metrics: deps.Metrics, Log: base(deps.Log)}); err != nil {
		return fmt.Errorf("register orphan sweep: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &HousekeepingWorker{Store: m.Housekeeper, RateLimitIdle: o.RateLimitIdle,
		HeartbeatMaxAge: o.HeartbeatMaxAge, Metrics: deps.Metrics, Log: base(deps.Log)}); err != nil {
		return fmt.Errorf("register housekeeping: %w", err)
	}
	// No RunOnStart for the sweep: a daily job at a fixed local time, not
	// on every deploy (River's scheduler keeps no state across leaders,
	// which DailyAt does not need).
	*periodic = append(*periodic,
		river.NewPeriodicJob(DailyAt{At: o.SweepAt, Loc: o.SweepLoc},
			func() (river.JobArgs, *river.InsertOpts) { return OrphanSweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: OrphanSweepArgs{}.Kind()}),
		river.NewPeriodicJob(river.PeriodicInterval(o.HousekeepingInterval),
			func() (river.JobArgs, *river.InsertOpts) { return HousekeepingArgs{}, nil },
			&river.PeriodicJobOpts{ID: HousekeepingArgs{}.Kind(), RunOnStart: true}))
	return nil
}

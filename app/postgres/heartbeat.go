package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// Heartbeat is one worker process's liveness row.
type Heartbeat struct {
	WorkerID  string
	Hostname  string
	PID       int
	Version   string
	Queues    []string
	StartedAt time.Time
}

// Beat upserts the worker's heartbeat with last_seen_at = now().
func (db *DB) Beat(ctx context.Context, hb Heartbeat) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO worker_heartbeats
			(worker_id, hostname, pid, version, queues, started_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (worker_id) DO UPDATE SET last_seen_at = now()`,
		hb.WorkerID, hb.Hostname, hb.PID, hb.Version, hb.Queues, hb.StartedAt)
	if err != nil {
		return fmt.Errorf("write heartbeat: %w", err)
	}
	return nil
}

// QueueCheck is the /health "queue" check: River's table answers and some
// worker wrote a heartbeat within staleAfter (NoActiveWorker otherwise).
func (db *DB) QueueCheck(staleAfter time.Duration) course.Checker {
	return course.CheckerFunc(func(ctx context.Context) error {
		var n int64
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM river_job LIMIT 1) s`).Scan(&n); err != nil {
			return &course.HealthError{Kind: healthKind(ctx, err), Err: err}
		}
		var last *time.Time
		err := db.Pool.QueryRow(ctx, `SELECT max(last_seen_at) FROM worker_heartbeats
			WHERE last_seen_at > now() - make_interval(secs => $1)`, staleAfter.Seconds()).Scan(&last)
		if err != nil {
			return &course.HealthError{Kind: healthKind(ctx, err), Err: err}
		}
		if last == nil {
			return &course.HealthError{Kind: course.HealthNoWorker, Err: errors.New("no recent worker heartbeat")}
		}
		return nil
	})
}

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

var (
	_ course.StorageReferences = (*DB)(nil)
	_ course.Housekeeper       = (*DB)(nil)
)

// ReferencedKeys returns which of keys a material points at: one indexed
// query per listing page (storage_key is UNIQUE), asked by the orphan
// sweep right before it deletes that page's candidates.
func (db *DB) ReferencedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT storage_key FROM material_entries WHERE storage_key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("look up storage keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("read storage key: %w", err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up storage keys: %w", err)
	}
	return out, nil
}

// DeleteIdleRateLimits deletes rate_limit_windows rows (migration 00007)
// whose newest counted second is more than idle ago: they count nothing
// (the window is 61 s), and rate_limit_lease (00012) recreates one on demand. A
// request racing the delete either keeps its row (the DELETE re-checks
// sec after the row lock) or finds it gone and inserts a fresh one.
func (db *DB) DeleteIdleRateLimits(ctx context.Context, idle time.Duration) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM rate_limit_windows
		WHERE sec < floor(extract(epoch FROM now()))::bigint - $1`, int64(idle.Seconds()))
	if err != nil {
		return 0, fmt.Errorf("delete idle rate limits: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DeleteStaleHeartbeats deletes worker_heartbeats rows last seen more than
// maxAge ago. It is a backstop: the reaper already deletes a heartbeat
// older than WORKER_STALE_AFTER when it takes that worker's jobs back
// (RescueDeadWorkers), and maxAge (a day) is far longer, so this never
// removes a heartbeat before the reaper has judged it.
func (db *DB) DeleteStaleHeartbeats(ctx context.Context, maxAge time.Duration) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM worker_heartbeats
		WHERE last_seen_at < now() - make_interval(secs => $1)`, maxAge.Seconds())
	if err != nil {
		return 0, fmt.Errorf("delete stale heartbeats: %w", err)
	}
	return tag.RowsAffected(), nil
}

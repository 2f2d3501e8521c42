package postgres

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/course-supporter/course-supporter/app/course"
)

// Check runs SELECT 1 on the pool, for /health.
func (db *DB) Check(ctx context.Context) error {
	var one int
	err := db.Pool.QueryRow(ctx, "SELECT 1").Scan(&one)
	if err == nil {
		return nil
	}
	return &course.HealthError{Kind: healthKind(ctx, err), Err: err}
}

func healthKind(ctx context.Context, err error) string {
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return course.HealthTimeout
	case errors.As(err, &pgErr):
		if pgErr.Code == "28P01" || pgErr.Code == "28000" {
			return course.HealthAccessDenied
		}
		return course.HealthQueryError
	case errors.As(err, &netErr), pgconn.SafeToRetry(err):
		return course.HealthUnavailable
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return course.HealthUnavailable
	}
	return course.HealthOther
}

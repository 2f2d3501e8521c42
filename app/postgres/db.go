// Package postgres implements the domain's storage on PostgreSQL 17 with
// pgvector: one pgx pool per process, shared by GORM (through database/sql)
// and, later, by River. Row types and their converters live only here.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Options tunes the pool.
type Options struct {
	MaxConns          int32
	MinConns          int32
	HealthCheckPeriod time.Duration
	MaxConnLifetime   time.Duration
}

// DB bundles the pool and the ORM handle built on it.
type DB struct {
	Pool *pgxpool.Pool
	SQL  *sql.DB
	Gorm *gorm.DB
	// trees gives tree writers their turn before they borrow a
	// connection (treegate.go).
	trees treeGate
}

// Open connects a pool. It does not fail when the server is down: the pool
// connects lazily and its periodic health check replaces dead connections,
// which is what lets the API recover after a database restart by itself.
func Open(ctx context.Context, dsn string, o Options) (*DB, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if o.MaxConns > 0 {
		pc.MaxConns = o.MaxConns
	}
	pc.MinConns = o.MinConns
	if o.HealthCheckPeriod > 0 {
		pc.HealthCheckPeriod = o.HealthCheckPeriod
	}
	if o.MaxConnLifetime > 0 {
		pc.MaxConnLifetime = o.MaxConnLifetime
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	g, err := gorm.Open(gormpg.New(gormpg.Config{Conn: sqlDB}), &gorm.Config{
		TranslateError:       true,
		DisableAutomaticPing: true, // start even while the database is down
		Logger:               logger.Discard,
		NowFunc:              func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	return &DB{Pool: pool, SQL: sqlDB, Gorm: g}, nil
}

// Close releases every connection. Call it last during shutdown.
func (db *DB) Close() {
	_ = db.SQL.Close()
	db.Pool.Close()
}

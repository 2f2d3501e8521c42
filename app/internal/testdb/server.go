package testdb

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// Server is a database server a test may restart under a running app.
type Server struct {
	DSN     string
	restart func() error
}

// Restart bounces the server. On the chroot server it is a real restart of
// a dedicated cluster. With TEST_DATABASE_URL or a container, the shared
// server cannot be restarted, so every connection to the test's database is
// terminated instead: the same thing a restart does to a client pool.
func (s *Server) Restart() error { return s.restart() }

// NewRestartable returns a migrated database on a server the test may
// restart.
func NewRestartable(tb testing.TB) *Server {
	tb.Helper()
	_, from := Admin(tb)
	if from != FromChroot {
		dsn := New(tb)
		admin, _ := Admin(tb)
		return &Server{DSN: dsn, restart: func() error {
			return execSQL(context.Background(), admin, fmt.Sprintf(
				`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'`, dbName(dsn)))
		}}
	}
	const name, port = "restart", "55439"
	admin, err := fromChroot(name, port)
	if err != nil {
		tb.Fatalf("start restartable cluster: %v", err)
	}
	tb.Cleanup(func() { _, _ = localPG("stop", name) })
	if err := execSQL(context.Background(), admin, `DROP DATABASE IF EXISTS app WITH (FORCE)`); err != nil {
		tb.Fatal(err)
	}
	if err := execSQL(context.Background(), admin, `CREATE DATABASE app`); err != nil {
		tb.Fatal(err)
	}
	dsn := withDatabase(admin, "app")
	if err := migrate(context.Background(), dsn); err != nil {
		tb.Fatal(err)
	}
	return &Server{DSN: dsn, restart: func() error {
		_, err := localPG("restart", name)
		return err
	}}
}

func dbName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

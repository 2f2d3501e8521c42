// Package testdb gives integration tests a real PostgreSQL 17 + pgvector.
// The server is found once per test process, in this order:
//
//  1. TEST_DATABASE_URL, if set;
//  2. testcontainers-go with the production pgvector image (Image), if a Docker engine answers;
//  3. scripts/local-pg.sh, which runs Debian's PostgreSQL 17 in a cached chroot.
//
// If none works the test fails, saying what was tried: integration tests
// are never skipped silently. Migrations are applied once to a template
// database; every test gets its own database cloned from it.
package testdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Image is the container image used when a Docker engine is available: the
// production database image, tag and digest (deploytest checks they match).
const Image = "pgvector/pgvector:0.8.1-pg17@sha256:3e8b3adfd27b5707128f60956f62a793c3c9326ea8cfaf0eab7adccb5d700b21"

// Source says where the server came from.
type Source string

// Sources of a test server.
const (
	FromEnv       Source = "TEST_DATABASE_URL"
	FromContainer Source = "testcontainers"
	FromChroot    Source = "local-pg"
)

var (
	findOnce  sync.Once
	adminDSN  string
	adminFrom Source
	findErr   error
)

// Admin returns the DSN of a superuser connection to the server's
// "postgres" database, and where the server came from.
func Admin(tb testing.TB) (string, Source) {
	tb.Helper()
	findOnce.Do(func() { adminDSN, adminFrom, findErr = find() })
	if findErr != nil {
		tb.Fatalf("no PostgreSQL 17 + pgvector for integration tests: %v", findErr)
	}
	return adminDSN, adminFrom
}

func find() (string, Source, error) {
	if dsn := os.Getenv("TEST_DATABASE_URL"); dsn != "" {
		return dsn, FromEnv, nil
	}
	var tried []string
	dsn, err := fromContainer()
	if err == nil {
		return dsn, FromContainer, nil
	}
	tried = append(tried, "testcontainers: "+err.Error())
	dsn, err = fromChroot("test", "55432")
	if err == nil {
		return dsn, FromChroot, nil
	}
	tried = append(tried, "scripts/local-pg.sh: "+err.Error())
	return "", "", fmt.Errorf("TEST_DATABASE_URL is unset; %s", strings.Join(tried, "; "))
}

// dockerAnswers reports whether a Docker engine responds; testcontainers
// panics or hangs without one, so probe first with a short timeout.
func dockerAnswers() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	p, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return false
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return p.Health(ctx) == nil
}

func fromContainer() (string, error) {
	if !dockerAnswers() {
		return "", errors.New("no Docker engine answers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        Image,
			ExposedPorts: []string{"5432/tcp"},
			Env:          map[string]string{"POSTGRES_PASSWORD": "postgres"},
			Cmd:          []string{"postgres", "-c", "fsync=off", "-c", "max_connections=300"},
			WaitingFor: wait.ForLog("database system is ready to accept connections").
				WithOccurrence(2).WithStartupTimeout(2 * time.Minute),
		},
		Started: true,
	})
	if err != nil {
		return "", fmt.Errorf("start %s: %w", Image, err)
	}
	// The container lives as long as the test process; testcontainers'
	// reaper removes it afterwards.
	host, err := c.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("container host: %w", err)
	}
	port, err := c.MappedPort(ctx, "5432/tcp")
	if err != nil {
		return "", fmt.Errorf("container port: %w", err)
	}
	return fmt.Sprintf("postgres://postgres:postgres@%s:%s/postgres?sslmode=disable", host, port.Port()), nil
}

// RepoRoot finds the repository root (the directory holding go.mod).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getwd: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// localPG runs scripts/local-pg.sh with args and returns its stdout.
func localPG(args ...string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "local-pg.sh")}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func fromChroot(name, port string) (string, error) {
	return localPG("start", name, port)
}

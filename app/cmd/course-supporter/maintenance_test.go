package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

// Ensure the program wires storage maintenance into its workers: the
// leader runs housekeeping at start, and the maintenance counters are on
// /metrics.
func TestWorkersRunMaintenance(t *testing.T) {
	t.Parallel()
	vars := testEnv(testdb.New(t), s3test.MustStart(t, "materials"))
	a := mustServe(t, vars)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'housekeeping' AND state = 'completed'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("housekeeping never ran\n%s", a.Logs.String())
		}
	}
	resp, err := http.Get(a.Metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, m := range []string{"cs_storage_orphans_deleted_total 0", "cs_multipart_uploads_aborted_total 0", `cs_housekeeping_deleted_total{what="worker_heartbeats"} 0`} {
		if !strings.Contains(string(b), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

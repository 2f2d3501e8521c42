package postgres_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// BenchmarkRateLimiterHit measures one Hit on one busy bucket from 16
// goroutines at once (the API's 16-connection benchmark, without HTTP), and
// reports the database calls per 1,000 requests (docs/performance.md):
//
//	go test ./app/postgres -run '^$' -bench RateLimiterHit -benchtime 3s
func BenchmarkRateLimiterHit(b *testing.B) {
	db := mustOpen(b, testdb.New(b))
	lim := postgres.NewRateLimiter(db)
	tenant := uuid.New()
	ctx := context.Background()
	if _, err := lim.Hit(ctx, tenant, "check", 100_000_000); err != nil { // the row exists
		b.Fatal(err)
	}
	calls0 := postgres.RateLimiterCalls(lim)
	b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d, err := lim.Hit(ctx, tenant, "check", 100_000_000)
			if err != nil || !d.Allowed {
				b.Errorf("hit: %+v %v", d, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(postgres.RateLimiterCalls(lim)-calls0)*1000/float64(b.N), "dbcalls/1000req")
}

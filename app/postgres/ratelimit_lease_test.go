package postgres_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

func closeAll(t *testing.T, lims ...*postgres.RateLimiter) {
	t.Helper()
	for _, l := range lims {
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// windowSlots reads a bucket's row: its total and the count of each second.
func windowSlots(t *testing.T, db *postgres.DB, tenant uuid.UUID) (total int, bySec map[int64]int) {
	t.Helper()
	var last int64
	var slots []int32
	err := db.Pool.QueryRow(context.Background(), `SELECT sec, total, slots FROM rate_limit_windows
		WHERE tenant_id = $1 AND scope = 'check'`, tenant).Scan(&last, &total, &slots)
	if err != nil {
		t.Fatal(err)
	}
	bySec = map[int64]int{}
	for s := last - 60; s <= last; s++ {
		if n := int(slots[s%61]); n > 0 {
			bySec[s] = n
		}
	}
	return total, bySec
}

func windowTotal(t *testing.T, db *postgres.DB, tenant uuid.UUID) int {
	t.Helper()
	total, _ := windowSlots(t, db, tenant)
	return total
}

// admission is when an admitted Hit was called and when it returned.
type admission struct{ from, to time.Time }

// hammer runs n goroutines calling lim.Hit on one bucket for d and
// returns the admitted calls.
func hammer(t *testing.T, lim *postgres.RateLimiter, tenant uuid.UUID, limit, n int, d time.Duration) []admission {
	t.Helper()
	var mu sync.Mutex
	var got []admission
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				from := time.Now()
				dec, err := lim.Hit(context.Background(), tenant, "check", limit)
				if err != nil {
					t.Error(err)
					return
				}
				if dec.Allowed {
					mu.Lock()
					got = append(got, admission{from, time.Now()})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return got
}

// Ensure two processes hammering one bucket never admit more than the
// limit (exact upper bound), fall short of it by at most what each may
// hold (limit/10), and that after they give back their leases the
// database counts exactly the admitted requests.
func TestRateLimitLeaseExactUnderHammer(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	la, lb := postgres.NewRateLimiter(a), postgres.NewRateLimiter(b)
	tenant := uuid.New()
	const limit = 400
	var ga, gb []admission
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ga = hammer(t, la, tenant, limit, 8, 2500*time.Millisecond) }()
	go func() { defer wg.Done(); gb = hammer(t, lb, tenant, limit, 8, 2500*time.Millisecond) }()
	wg.Wait()
	n := len(ga) + len(gb)
	if n > limit || n < limit-2*limit/10 {
		t.Fatalf("admitted %d (%d + %d), want %d..%d", n, len(ga), len(gb), limit-2*limit/10, limit)
	}
	closeAll(t, la, lb)
	if total := windowTotal(t, a, tenant); total != n {
		t.Fatalf("database counts %d after the leases came back, %d were admitted", total, n)
	}
}

// Ensure a leased token is spent only within the second the database
// counted it in: for every second S, the requests admitted before S ended
// are counted in seconds up to S, and those called after it are not.
// A token spent after its second would be counted one second short.
func TestRateLimitLeaseCountedInItsSecond(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	la, lb := postgres.NewRateLimiter(a), postgres.NewRateLimiter(b)
	tenant := uuid.New()
	const limit = 10_000_000 // never full: leases run across the seconds
	var ga, gb []admission
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ga = hammer(t, la, tenant, limit, 4, 2300*time.Millisecond) }()
	go func() { defer wg.Done(); gb = hammer(t, lb, tenant, limit, 4, 2300*time.Millisecond) }()
	wg.Wait()
	closeAll(t, la, lb)
	all := append(ga, gb...)
	total, bySec := windowSlots(t, a, tenant)
	if total != len(all) {
		t.Fatalf("database counts %d, %d were admitted", total, len(all))
	}
	if len(bySec) < 2 {
		t.Fatalf("the run spanned %d second(s) of counts, want at least 2: %v", len(bySec), bySec)
	}
	for s := range bySec {
		counted := 0
		for s2, c := range bySec {
			if s2 <= s {
				counted += c
			}
		}
		doneBy, calledBy := 0, 0 // admitted before s+1 ended / called before it
		for _, ad := range all {
			if ad.to.Unix() <= s {
				doneBy++
			}
			if ad.from.Unix() <= s {
				calledBy++
			}
		}
		if counted < doneBy || counted > calledBy {
			t.Fatalf("seconds up to %d count %d; admitted by its end %d, called by its end %d", s, counted, doneBy, calledBy)
		}
	}
	t.Logf("%d admitted over %d seconds, %d database calls", len(all), len(bySec),
		postgres.RateLimiterCalls(la)+postgres.RateLimiterCalls(lb))
}

// Ensure the lower side stays within the documented bound: while process
// A holds a lease, B is refused only once the limit less at most A's
// lease (limit/10) is admitted; once A's lease ends its unused tokens come
// back and B gets exactly them. RateLimit-Remaining stays within the same
// tolerance.
func TestRateLimitLeaseShortfallBounded(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	la, lb := postgres.NewRateLimiter(a), postgres.NewRateLimiter(b)
	t.Cleanup(func() { closeAll(t, la, lb) })
	tenant := uuid.New()
	const limit, leaseCap = 100, 10
	ctx := context.Background()
	admitted := 0
	hit := func(l *postgres.RateLimiter) bool {
		d, err := l.Hit(ctx, tenant, "check", limit)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			admitted++
			if d.Remaining > limit-admitted || d.Remaining < limit-admitted-leaseCap {
				t.Fatalf("after %d admitted: remaining %d, want %d..%d", admitted, d.Remaining, limit-admitted-leaseCap, limit-admitted)
			}
		} else if d.Remaining != 0 || d.Reset <= 0 || d.Reset > 61*time.Second {
			t.Fatalf("refused with remaining %d reset %v", d.Remaining, d.Reset)
		}
		return d.Allowed
	}
	// A sees bursts of 8 concurrent requests until it holds a lease.
	for i := 0; postgres.RateLimiterHeld(la, tenant, "check", limit) == 0; i++ {
		if i == 5 {
			t.Fatal("A never leased")
		}
		var n atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if d, err := la.Hit(ctx, tenant, "check", limit); err == nil && d.Allowed {
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		admitted += int(n.Load())
	}
	held := postgres.RateLimiterHeld(la, tenant, "check", limit)
	if held > leaseCap {
		t.Fatalf("A holds %d, more than limit/10", held)
	}
	for hit(lb) {
	}
	if admitted < limit-leaseCap {
		t.Fatalf("B refused after %d admitted: short by more than one lease", admitted)
	}
	// A's lease ends with its second; its timer gives the tokens back.
	deadline := time.Now().Add(5 * time.Second)
	for windowTotal(t, a, tenant) != admitted {
		if time.Now().After(deadline) {
			t.Fatalf("A's unused tokens did not come back: database %d, admitted %d", windowTotal(t, a, tenant), admitted)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond) // B's refusal holds until its second ends
	for hit(lb) {
	}
	if admitted != limit {
		t.Fatalf("admitted %d in all, want exactly %d once the leases came back", admitted, limit)
	}
}

// Ensure a busy bucket leaves nothing behind once idle: its state is
// dropped, its tokens come back, and no goroutine outlives the traffic.
// Not parallel: it counts the process's goroutines.
func TestRateLimitLeaseIdleCleanup(t *testing.T) {
	db := mustOpen(t, testdb.New(t))
	lim := postgres.NewRateLimiter(db)
	tenant := uuid.New()
	base := runtime.NumGoroutine()
	got := hammer(t, lim, tenant, 1_000_000, 16, 1500*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for postgres.RateLimiterBuckets(lim) != 0 || windowTotal(t, db, tenant) != len(got) || runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("after idle: %d buckets, database %d for %d admitted, %d goroutines (%d before)",
				postgres.RateLimiterBuckets(lim), windowTotal(t, db, tenant), len(got), runtime.NumGoroutine(), base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

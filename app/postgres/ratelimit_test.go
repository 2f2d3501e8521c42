package postgres_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// take calls rate_limit_take at a chosen time (the p_now test hook).
func take(t *testing.T, db *postgres.DB, tenant uuid.UUID, limit int, at time.Time) (allowed bool, remaining int, resetMS int64) {
	t.Helper()
	err := db.Pool.QueryRow(context.Background(), `SELECT admitted = 1, remaining, reset_ms FROM rate_limit_take($1, 'check', $2, 1, $3)`,
		tenant, limit, at).Scan(&allowed, &remaining, &resetMS)
	if err != nil {
		t.Fatal(err)
	}
	return allowed, remaining, resetMS
}

func unix(sec float64) time.Time { return time.UnixMilli(int64(sec * 1000)) }

// Ensure two processes (two pools) racing on one bucket together admit
// at most the limit, and at least the limit less what each may hold in a
// lease (limit/10, docs/design/rate-limiting.md); every admitted request
// is counted in the database once the processes give back their leases.
func TestRateLimitExactAcrossPools(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	la, lb := postgres.NewRateLimiter(a), postgres.NewRateLimiter(b)
	tenant := uuid.New()
	const limit, calls = 17, 60
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for i := range calls {
		lim := la
		if i%2 == 1 {
			lim = lb
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := lim.Hit(context.Background(), tenant, "check", limit)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				admitted.Add(1)
				if d.Remaining < 0 || d.Remaining >= limit {
					t.Errorf("admitted with remaining %d", d.Remaining)
				}
			} else if d.Remaining != 0 || d.Reset <= 0 || d.Reset > 61*time.Second {
				t.Errorf("denied with remaining %d reset %v", d.Remaining, d.Reset)
			}
		}()
	}
	wg.Wait()
	if n := int(admitted.Load()); n > limit || n < limit-2*(limit/10) {
		t.Fatalf("admitted %d of %d, want %d..%d", n, calls, limit-2*(limit/10), limit)
	}
	closeAll(t, la, lb)
	if total := windowTotal(t, a, tenant); total != int(admitted.Load()) {
		t.Fatalf("database counts %d, %d were admitted", total, admitted.Load())
	}
}

// Ensure the window slides: each admitted request frees its slot 60 s
// after its own second ends, one at a time, not all at once.
func TestRateLimitWindowSlides(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	tenant := uuid.New()
	const t0 = 1_000_000.2
	for i, off := range []float64{0, 10, 20} {
		ok, rem, _ := take(t, db, tenant, 3, unix(t0+off))
		if !ok || rem != 2-i {
			t.Fatalf("hit %d: allowed %v remaining %d", i, ok, rem)
		}
	}
	ok, rem, reset := take(t, db, tenant, 3, unix(t0+30))
	// The first hit (second 1,000,000) leaves at 1,000,061.0: 30.8 s later.
	if ok || rem != 0 || reset != 30_800 {
		t.Fatalf("full bucket: allowed %v remaining %d reset %d ms", ok, rem, reset)
	}
	if ok, _, _ := take(t, db, tenant, 3, unix(t0+60.7)); ok {
		t.Fatal("admitted before the first hit's second left the window")
	}
	if ok, rem, reset := take(t, db, tenant, 3, unix(t0+60.8)); !ok || rem != 0 || reset != 10_000 {
		t.Fatalf("after the first hit left: allowed %v remaining %d reset %d", ok, rem, reset)
	}
	if ok, _, _ := take(t, db, tenant, 3, unix(t0+65)); ok {
		t.Fatal("one freed slot admitted two requests")
	}
	if ok, _, _ := take(t, db, tenant, 3, unix(t0+70.8)); !ok {
		t.Fatal("second hit's slot did not free")
	}
}

// Ensure a burst at the edge of a minute is not admitted twice: a fixed
// window would admit a full second burst right after the edge.
func TestRateLimitBurstAtEdgeNotAdmittedTwice(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	tenant := uuid.New()
	const edge = 60 * 20_000.0 // a whole minute
	for i := range 5 {
		if ok, _, _ := take(t, db, tenant, 5, unix(edge-0.1)); !ok {
			t.Fatalf("burst hit %d denied", i)
		}
	}
	for _, off := range []float64{0, 0.1, 1, 30, 59.8} {
		if ok, _, _ := take(t, db, tenant, 5, unix(edge+off)); ok {
			t.Fatalf("admitted at edge+%vs: the burst was admitted twice", off)
		}
	}
	n := 0
	for range 7 {
		if ok, _, _ := take(t, db, tenant, 5, unix(edge+60)); ok {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("after the window: %d admitted, want 5", n)
	}
}

// Ensure, against a model, that random traffic is never admitted above the
// limit in any rolling 60 s and is refused only when the per-second count
// of the last 61 seconds is full (a slot frees at most 1 s late).
func TestRateLimitMatchesModel(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	tenant := uuid.New()
	rng := rand.New(rand.NewPCG(1, 2))
	const limit = 7
	var admitted []int64 // ms
	now := int64(5_000_000_000)
	for i := range 600 {
		now += rng.Int64N(20_000) // 0-20 s apart; bursts when small
		if rng.IntN(3) == 0 {
			now -= now % 1000 // land on second boundaries too
		}
		inWindow := 0 // admitted in the model's counted seconds
		for _, h := range admitted {
			if h/1000 >= now/1000-60 {
				inWindow++
			}
		}
		ok, rem, _ := take(t, db, tenant, limit, time.UnixMilli(now))
		if want := inWindow < limit; ok != want {
			t.Fatalf("call %d at %d: allowed %v, model %v", i, now, ok, want)
		}
		if ok {
			admitted = append(admitted, now)
			inWindow++
		}
		if rem != max(limit-inWindow, 0) {
			t.Fatalf("call %d: remaining %d, model %d", i, rem, limit-inWindow)
		}
		exact := 0 // the documented rule: admitted in (now-60 s, now]
		for _, h := range admitted {
			if h > now-60_000 {
				exact++
			}
		}
		if exact > limit {
			t.Fatalf("call %d: %d admitted in the last 60 s, limit %d", i, exact, limit)
		}
	}
}

// Ensure a bucket's row keeps one size however many requests it counts
// (the sliding log of the old limiter grew by 8 bytes per hit). The table's
// size on disk then depends only on PostgreSQL pruning the old row
// versions (HOT updates); bench/ratelimit measures it over a long run.
func TestRateLimitRowConstantSize(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	lim := postgres.NewRateLimiter(db)
	tenant := uuid.New()
	rowSize := func() (size, slots int) {
		err := db.Pool.QueryRow(context.Background(), `SELECT pg_column_size(w.*), cardinality(w.slots)
			FROM rate_limit_windows w WHERE tenant_id = $1`, tenant).Scan(&size, &slots)
		if err != nil {
			t.Fatal(err)
		}
		return size, slots
	}
	var first int
	for i := range 2000 {
		if _, err := lim.Hit(context.Background(), tenant, "check", 1_000_000); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first, _ = rowSize()
		}
	}
	if size, slots := rowSize(); size != first || slots != 61 {
		t.Fatalf("row after 2000 hits: %d bytes, %d slots; after one hit %d bytes", size, slots, first)
	}
}

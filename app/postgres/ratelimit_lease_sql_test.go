package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

type leaseOut struct {
	admitted, remaining int
	resetMS, sec        int64
	leftMS              int
}

// leaseAt calls rate_limit_lease at a chosen time (the p_now test hook).
func leaseAt(t *testing.T, db *postgres.DB, tenant uuid.UUID, limit, need int, rate float32, leaseCap int,
	retSecs []int64, retNs []int, at float64) leaseOut {
	t.Helper()
	if retSecs == nil {
		retSecs, retNs = []int64{}, []int{}
	}
	var o leaseOut
	err := db.Pool.QueryRow(context.Background(), `SELECT admitted, remaining, reset_ms, lease_sec, left_ms
		FROM rate_limit_lease($1, 'check', $2, $3, $4, $5, $6, $7, $8)`,
		tenant, limit, need, rate, leaseCap, retSecs, retNs, unix(at)).
		Scan(&o.admitted, &o.remaining, &o.resetMS, &o.sec, &o.leftMS)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Ensure a lease is sized to the rate for the rest of the second, capped,
// counted in its second, and that returns give tokens back only to seconds
// still in the window and never below zero.
func TestRateLimitLeaseSQL(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	tenant := uuid.New()
	const s0 = 1_000_000
	// need 1 + min(cap 10, 100/s × 0.75 s) = 11; the lease ends with the second.
	if o := leaseAt(t, db, tenant, 20, 1, 100, 10, nil, nil, s0+0.25); o.admitted != 11 || o.remaining != 9 || o.sec != s0 || o.leftMS != 750 {
		t.Fatalf("first lease: %+v", o)
	}
	if o := leaseAt(t, db, tenant, 20, 0, 0, 0, []int64{s0}, []int{4}, s0+0.5); o.admitted != 0 || o.remaining != 13 {
		t.Fatalf("after giving 4 back: %+v", o)
	}
	if o := leaseAt(t, db, tenant, 20, 0, 1000, 10, nil, nil, s0+1); o.admitted != 10 || o.remaining != 3 || o.leftMS != 1000 {
		t.Fatalf("second lease: %+v", o)
	}
	if o := leaseAt(t, db, tenant, 20, 5, 1000, 10, nil, nil, s0+1.5); o.admitted != 3 || o.remaining != 0 {
		t.Fatalf("only what is left is admitted: %+v", o)
	}
	// 61 s on: second s0 has left the ring; its slot is now second s0+61's.
	leaseAt(t, db, tenant, 20, 2, 0, 0, nil, nil, s0+61)
	if o := leaseAt(t, db, tenant, 20, 0, 0, 0, []int64{s0}, []int{5}, s0+61.1); o.remaining != 20-13-2 {
		t.Fatalf("a return to a second out of the window was applied: %+v", o)
	}
	if o := leaseAt(t, db, tenant, 20, 0, 0, 0, []int64{s0 + 1}, []int{50}, s0+61.2); o.remaining != 18 {
		t.Fatalf("a return larger than its second's count: %+v", o)
	}
}

// Ensure a lease taken just before a minute's edge does not let a burst be
// admitted twice: its tokens count until the edge plus 60 s.
func TestRateLimitLeaseBurstAtEdge(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	tenant := uuid.New()
	const edge = 60 * 30_000.0
	if o := leaseAt(t, db, tenant, 50, 0, 1000, 5, nil, nil, edge-0.1); o.admitted != 5 || o.leftMS != 100 {
		t.Fatalf("lease at the edge: %+v", o) // spendable for 100 ms, until the edge
	}
	if o := leaseAt(t, db, tenant, 50, 45, 0, 0, nil, nil, edge-0.05); o.admitted != 45 {
		t.Fatalf("burst: %+v", o)
	}
	for _, off := range []float64{0, 0.1, 30, 59.9} {
		if o := leaseAt(t, db, tenant, 50, 1, 1000, 5, nil, nil, edge+off); o.admitted != 0 {
			t.Fatalf("admitted at edge+%vs: the burst was admitted twice", off)
		}
	}
	if o := leaseAt(t, db, tenant, 50, 50, 0, 0, nil, nil, edge+60); o.admitted != 50 {
		t.Fatalf("after the window: %+v", o)
	}
}

package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// window is the rate limiter's: a slot frees 60-61 s after its request
// (docs/design/rate-limiting.md).
const window = 61 * time.Second

// report holds the figures of the load and the failures of its checks.
type report struct {
	seconds  float64
	ops      [nOps]opStats
	total    int
	failures []string
	kinds    map[string]int // failures by kind, with the first example in failures
	outages  []outageStats
	limits   []string
	samples  []string
}

type opStats struct {
	n, errs       int
	p50, p95, p99 time.Duration
	status        map[int]int
}

type outageStats struct {
	outage
	n, ok2xx, got503, got500, other5xx, hangs int
	last503                                   time.Duration // end of the last 503 it explains
}

func (r *report) fail(format string, a ...any) {
	if len(r.failures) < 40 {
		r.failures = append(r.failures, fmt.Sprintf(format, a...))
	}
}

// failKind counts a failure of a kind; only the first of each is listed.
func (r *report) failKind(kind string, x rec, format string, a ...any) {
	if r.kinds == nil {
		r.kinds = map[string]int{}
	}
	if r.kinds[kind]++; r.kinds[kind] == 1 {
		r.fail("%s at %.1f s: %s", opNames[x.op], x.start.Seconds(), fmt.Sprintf(format, a...))
	}
}

func (r *report) ok() bool { return len(r.failures) == 0 }

// in says whether the request overlapped the outage (or its grace after).
func (o outage) in(x rec, grace time.Duration) bool {
	return x.start <= o.to+grace && x.start+x.dur >= o.from
}

func (l *load) report(outages []outage) *report {
	r := &report{seconds: l.c.dur.Seconds()}
	var all []rec
	lat := make([][]time.Duration, nOps)
	for _, cl := range l.clients {
		all = append(all, cl.recs...)
		r.samples = append(r.samples, cl.samples...)
	}
	for i := range r.ops {
		r.ops[i].status = map[int]int{}
	}
	for _, o := range outages {
		if o.err != nil {
			r.fail("fault %s: %v", o.name, o.err)
		}
		r.outages = append(r.outages, outageStats{outage: o})
	}
	for _, x := range all {
		s := &r.ops[x.op]
		s.n++
		r.total++
		if x.status == 0 {
			s.errs++
		} else {
			s.status[x.status]++
			lat[x.op] = append(lat[x.op], x.dur)
		}
		inOutage := false
		for i := range r.outages {
			if o := &r.outages[i]; o.in(x, l.c.grace) {
				inOutage = true
				o.n++
				switch {
				case x.status >= 200 && x.status < 300:
					o.ok2xx++
				case x.status == 503:
					o.got503++
					o.last503 = max(o.last503, x.start+x.dur)
				case x.status == 500:
					o.got500++
				case x.status > 500:
					o.other5xx++
				case x.err == errTimeout:
					o.hangs++
				}
			}
		}
		k := opNames[x.op] + " " + strconv.Itoa(x.status)
		switch {
		case x.err == errTimeout:
			r.failKind(k+" hang", x, "no answer within %s (a hang)", l.c.timeout)
		case x.err == errConn:
			r.failKind(k+" conn", x, "connection error")
		case x.status >= 500 && !inOutage:
			r.failKind(k+" outside", x, "%d outside any outage", x.status)
		case x.status >= 500 && x.status != 503:
			r.failKind(k+" inside", x, "%d during an outage (want 503)", x.status)
		case x.status >= 400 && !x.detailOK:
			r.failKind(k+" body", x, "%d without a {\"detail\": ...} body (or a 429 without Retry-After)", x.status)
		}
	}
	for op := range lat {
		d := lat[op]
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		p := func(q float64) time.Duration { return d[int(q*float64(len(d)-1))] }
		r.ops[op].p50, r.ops[op].p95, r.ops[op].p99 = p(0.50), p(0.95), p(0.99)
	}
	l.checkLimits(r, append(all, l.setupRecs...), outages)
	return r
}

// checkLimits: no 429 for a tenant whose limits are out of reach; for a
// limited tenant, per scope, never more admitted than the limit in any
// 60 s seen by the client, and every 429 came when up to the limit could
// have been admitted in the window before it. The client does not know
// when the server decided, only that it was between a request's start and
// end, so both checks take the side that cannot accuse the limiter wrongly.
// A limit the clients never reached is reported, not failed.
func (l *load) checkLimits(r *report, all []rec, outages []outage) {
	for _, t := range l.tenants {
		for _, write := range []bool{true, false} {
			scope, limit := "check", t.checkLimit
			if write {
				scope, limit = "prep", t.prepLimit
			}
			var admitted, maybe, refused []rec
			for _, x := range all {
				if x.tenant != t.idx || isWrite(x.op) != write {
					continue
				}
				switch {
				case x.status == 429:
					refused = append(refused, x)
				case x.status != 0 && x.status < 500:
					admitted = append(admitted, x)
					maybe = append(maybe, x)
				default:
					maybe = append(maybe, x)
				}
			}
			sort.Slice(admitted, func(i, j int) bool { return admitted[i].start < admitted[j].start })
			most := 0
			for i, a := range admitted {
				if overlapsAny(a.start, a.start+60*time.Second, outages) {
					continue // the limiter fails open while PostgreSQL is down (documented)
				}
				n := 0
				for _, b := range admitted[i:] {
					if b.start >= a.start+60*time.Second {
						break
					}
					if b.start+b.dur < a.start+60*time.Second {
						n++
					}
				}
				most = max(most, n)
			}
			unjust := 0
			for _, x := range refused {
				n := 0
				for _, b := range maybe {
					if b.start+b.dur > x.start-window && b.start <= x.start+x.dur {
						n++
					}
				}
				if n < limit {
					unjust++
				}
			}
			line := fmt.Sprintf("%s %s (limit %d/min): %d admitted, %d refused (429), at most %d admitted within 60 s",
				t.name, scope, limit, len(admitted), len(refused), most)
			if len(outages) > 0 {
				line += " (windows touching an outage not counted: the limiter fails open while PostgreSQL is down)"
			}
			r.limits = append(r.limits, line)
			switch {
			case !t.limited() && len(refused) > 0:
				r.fail("%s: %d 429s but the limit is out of reach", line, len(refused))
			case most > limit:
				r.fail("%s: more than the limit admitted within 60 s", line)
			case unjust > 0:
				r.fail("%s: %d 429s while fewer than the limit could have been admitted", line, unjust)
			}
			if t.limited() && len(refused) == 0 {
				// Not a limiter fault (too few requests were made to reach
				// it), but the run did not exercise the 429 pattern.
				r.limits = append(r.limits, "  note: the limit was not reached in this run")
			}
		}
	}
}

func overlapsAny(from, to time.Duration, os []outage) bool {
	for _, o := range os {
		if from <= o.to && to >= o.from {
			return true
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r *report) print() {
	fmt.Printf("\n%-14s %8s %8s %9s %9s %9s  %s\n", "operation", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "statuses")
	for op := range opSetup {
		s := r.ops[op]
		var st []string
		for _, k := range sortedKeys(s.status) {
			st = append(st, fmt.Sprintf("%d:%d", k, s.status[k]))
		}
		if s.errs > 0 {
			st = append(st, fmt.Sprintf("no-answer:%d", s.errs))
		}
		fmt.Printf("%-14s %8d %8.1f %9.1f %9.1f %9.1f  %s\n", opNames[op], s.n, float64(s.n)/r.seconds, ms(s.p50), ms(s.p95), ms(s.p99), strings.Join(st, " "))
		fmt.Printf("RESULT load.%s.p50 %.1f ms\nRESULT load.%s.p99 %.1f ms\n", opNames[op], ms(s.p50), opNames[op], ms(s.p99))
	}
	fivexx := 0
	for op := range opSetup {
		for k, v := range r.ops[op].status {
			if k >= 500 {
				fivexx += v
			}
		}
	}
	n := r.total - r.ops[opSetup].n
	fmt.Printf("total: %d requests, %.1f req/s, %d answered 5xx\n", n, float64(n)/r.seconds, fivexx)
	fmt.Printf("RESULT load.rps %.1f req/s\nRESULT load.5xx %d count ==0(outside-outages)\n", float64(n)/r.seconds, fivexx)
	for _, o := range r.outages {
		fmt.Printf("outage %s: %.1f-%.1f s (command %.1f s); %d requests overlapped it (+grace): %d 2xx, %d 503, %d 500, %d other 5xx, %d hangs; last 503 answered %.1f s after it ended\n",
			o.name, o.from.Seconds(), o.to.Seconds(), o.took.Seconds(), o.n, o.ok2xx, o.got503, o.got500, o.other5xx, o.hangs, (o.last503 - o.to).Seconds())
		fmt.Printf("RESULT load.%s.503 %d count >0\nRESULT load.%s.recovered_after %.1f s <%.0f\n", o.name, o.got503, o.name, (o.last503 - o.to).Seconds(), 5.0)
	}
	for _, s := range r.limits {
		fmt.Println("rate limit:", s)
	}
	for _, s := range r.samples[:min(len(r.samples), 8)] {
		fmt.Println("5xx sample:", s)
	}
	for _, f := range r.failures {
		fmt.Println("FAIL:", f)
	}
	for _, k := range slices.Sorted(maps.Keys(r.kinds)) {
		fmt.Printf("FAIL: %d x %s\n", r.kinds[k], k)
	}
}

func sortedKeys(m map[int]int) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

package api_test

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/course-supporter/course-supporter/app/api"
)

// BenchmarkTreeRead measures the app's own CPU and allocations per tree
// read, the request of bench/read: GET /nodes/{id}/tree of a 50-node
// course (a root, 7 chapters of 6 lessons), with the rate limiter on and
// off on the same database and key. The request goes straight into
// fiber's fasthttp handler, so no socket and no HTTP client is counted;
// the PostgreSQL round trips are, as they are in production. serial is
// one request at a time; c16 is 16 goroutines on the one bucket, as
// bench/read's 16 connections (docs/performance.md):
//
//	go test ./app/api -run '^$' -bench TreeRead -benchmem -benchtime 3000x -count 4
func BenchmarkTreeRead(b *testing.B) {
	on := mustStack(b, func(o *api.Options) { o.RateLimitEnabled = true })
	tenant := on.mustTenant("bench")
	key := on.mustKey(tenant, keyOpts{rateCheck: 100_000_000})
	root := benchCourse(on, key)
	off := mustStackOn(b, on.db, func(o *api.Options) { o.RateLimitEnabled = false })

	var req fasthttp.Request
	req.SetRequestURI("/api/v1/nodes/" + root + "/tree")
	req.Header.Set("X-API-Key", key)
	for _, mode := range []struct {
		name string
		par  int // goroutines per GOMAXPROCS; 0: serial
	}{{"serial", 0}, {"c16", 16}} {
		for _, side := range []struct {
			name string
			s    *stack
		}{{"limiter=off", off}, {"limiter=on", on}} {
			h := side.s.srv.App().Handler()
			b.Run(mode.name+"/"+side.name, func(b *testing.B) {
				var size atomic.Int64
				serve := func(ctx *fasthttp.RequestCtx) {
					ctx.Response.Reset()
					ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
					h(ctx)
					if ctx.Response.StatusCode() != http.StatusOK {
						b.Errorf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
					}
					size.Store(int64(len(ctx.Response.Body())))
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPU()
				if mode.par == 0 {
					var ctx fasthttp.RequestCtx
					for i := 0; i < b.N; i++ {
						serve(&ctx)
					}
				} else {
					b.SetParallelism(max(mode.par/runtime.GOMAXPROCS(0), 1))
					b.RunParallel(func(pb *testing.PB) {
						var ctx fasthttp.RequestCtx
						for pb.Next() {
							serve(&ctx)
						}
					})
				}
				b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(size.Load()), "bytes/resp")
			})
		}
	}
}

// processCPU is the user+system CPU time of this process so far: the
// app's CPU, without PostgreSQL's, whatever the wall time spent waiting.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCourse creates bench/read's course: a root, 7 chapters, 6 lessons
// each, every node with a description.
func benchCourse(s *stack, key string) string {
	const desc = "A lesson of the benchmark course: what it covers, what to read first, and what to practise."
	create := func(path, title string) string {
		r := s.call(http.MethodPost, path, key, map[string]any{"title": title, "description": desc})
		if r.Status != http.StatusCreated {
			s.t.Fatalf("create %q: %d %s", title, r.Status, r.Raw)
		}
		return r.json(s.t)["id"].(string)
	}
	root := create("/api/v1/nodes", "Benchmark course")
	for c := 1; c <= 7; c++ {
		ch := create("/api/v1/nodes/"+root+"/children", fmt.Sprintf("Chapter %d: a chapter title of ordinary length", c))
		for l := 1; l <= 6; l++ {
			create("/api/v1/nodes/"+ch+"/children", fmt.Sprintf("Lesson %d.%d: a lesson title of ordinary length", c, l))
		}
	}
	return root
}

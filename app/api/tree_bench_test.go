package api_test

import (
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/course-supporter/course-supporter/app/api"
)

// BenchmarkTreeRead measures the app's own CPU and allocations per tree
// read, the request of bench/read: GET /nodes/{id}/tree of a 50-node
// course (a root, 7 chapters of 6 lessons) with the rate limiter on. The
// request goes straight into fiber's fasthttp handler, so no socket and no
// HTTP client is counted; the two PostgreSQL round trips (limiter, tree)
// are, as they are in production (docs/performance.md):
//
//	go test ./app/api -run '^$' -bench TreeRead -benchmem -count 5
func BenchmarkTreeRead(b *testing.B) {
	s := mustStack(b, func(o *api.Options) { o.RateLimitEnabled = true })
	tenant := s.mustTenant("bench")
	key := s.mustKey(tenant, keyOpts{rateCheck: 100_000_000})
	root := benchCourse(s, key)

	h := s.srv.App().Handler()
	var req fasthttp.Request
	req.SetRequestURI("/api/v1/nodes/" + root + "/tree")
	req.Header.Set("X-API-Key", key)
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	var ctx fasthttp.RequestCtx
	size := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		ctx.Response.Reset()
		ctx.Init(&req, addr, nil)
		h(&ctx)
		if ctx.Response.StatusCode() != http.StatusOK {
			b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		size = len(ctx.Response.Body())
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size), "bytes/resp")
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

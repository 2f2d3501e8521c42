package api_test

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// llmClock records the intervals during which the fake model was busy.
type llmClock struct {
	mu        sync.Mutex
	intervals [][2]time.Time
}

// busy is the time covered by at least one model call since from.
func (c *llmClock) busy(from time.Time) time.Duration {
	c.mu.Lock()
	iv := append([][2]time.Time(nil), c.intervals...)
	c.intervals = nil
	c.mu.Unlock()
	sort.Slice(iv, func(i, j int) bool { return iv[i][0].Before(iv[j][0]) })
	var total time.Duration
	end := from
	for _, x := range iv {
		start := x[0]
		if start.Before(end) {
			start = end
		}
		if x[1].After(start) {
			total += x[1].Sub(start)
			end = x[1]
		}
	}
	return total
}

// BenchmarkGenerate3Level10Nodes generates a 3-level course of 10 nodes
// (a root, 3 modules, 6 lessons with a Markdown file each: 10 generate
// and 4 reconcile calls) end to end through the API, the queue and the
// real router, with a fake model that answers in 50 ms. overhead-ms/op
// is the wall time from the request to the last completion during which
// no model call was in flight: the orchestration's own cost.
func BenchmarkGenerate3Level10Nodes(b *testing.B) {
	g := newGenStack(b, jobs.GenerationOptions{})
	clock := &llmClock{}
	g.chat.SetAnswer(func(r llmtest.ChatRequest) llmtest.Reply {
		start := time.Now()
		time.Sleep(50 * time.Millisecond)
		clock.mu.Lock()
		clock.intervals = append(clock.intervals, [2]time.Time{start, time.Now()})
		clock.mu.Unlock()
		return llmtest.Reply{Status: http.StatusOK, Content: llmtest.StructureFor(r.Node)}
	})
	var wall, busy, overhead time.Duration
	calls := 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		root := g.child("", fmt.Sprintf("Course %d", i))
		for m := range 3 {
			mod := g.child(root, fmt.Sprintf("Module %d", m))
			for l := range 2 {
				lesson := g.child(mod, fmt.Sprintf("Lesson %d.%d", m, l))
				g.markdown(lesson, "l.md", fmt.Sprintf("# Lesson %d.%d of course %d\n\nSome text about topic %d.\n", m, l, i, l))
			}
		}
		g.chat.Reset()
		clock.busy(time.Now()) // drop earlier intervals
		b.StartTimer()
		start := time.Now()
		p := g.plan(root, "generate", nil)
		var ids []string
		for _, j := range planJobs(p) {
			ids = append(ids, j["id"].(string))
		}
		for {
			var open int
			if err := g.db.Pool.QueryRow(b.Context(), `SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[])
				AND status IN ('queued', 'active')`, ids).Scan(&open); err != nil {
				b.Fatal(err)
			}
			if open == 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		b.StopTimer()
		var last time.Time
		if err := g.db.Pool.QueryRow(b.Context(), `SELECT max(completed_at) FROM jobs WHERE id = ANY($1::uuid[])`, ids).Scan(&last); err != nil {
			b.Fatal(err)
		}
		if n := g.count(`SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[]) AND status <> 'complete'`, ids); n != 0 {
			b.Fatalf("%d jobs did not complete", n)
		}
		w := last.Sub(start)
		u := clock.busy(start)
		wall, busy, overhead = wall+w, busy+u, overhead+(w-u)
		calls += len(g.chat.Requests())
	}
	n := float64(b.N)
	b.ReportMetric(float64(wall.Milliseconds())/n, "wall-ms/op")
	b.ReportMetric(float64(busy.Milliseconds())/n, "llm-busy-ms/op")
	b.ReportMetric(float64(overhead.Milliseconds())/n, "overhead-ms/op")
	b.ReportMetric(float64(calls)/n, "llm-calls/op")
}

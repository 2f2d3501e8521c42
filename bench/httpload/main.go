// Command httpload is the HTTP load generator of the benchmarks in bench/:
// C keep-alive connections, each sending one GET after another for a fixed
// time, and one JSON line with the throughput and latency percentiles.
// It uses fasthttp's client (already in the module through fiber) because
// net/http's client costs about twice the CPU per request, and on a 2-core
// machine the generator shares the CPU with the server it measures.
//
//	go run ./bench/httpload -url http://127.0.0.1:8123/api/v1/nodes/ID/tree \
//	    -H 'X-API-Key: cs_live_...' -c 16 -d 10s
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

// result is the one JSON line the benchmark scripts parse.
type result struct {
	Conns    int         `json:"conns"`
	Seconds  float64     `json:"seconds"`
	Requests int         `json:"requests"`
	RPS      float64     `json:"rps"`
	P50ms    float64     `json:"p50_ms"`
	P95ms    float64     `json:"p95_ms"`
	P99ms    float64     `json:"p99_ms"`
	Status   map[int]int `json:"status"`
	Errors   int         `json:"errors"`
	Bytes    int64       `json:"bytes_per_response"`
}

func main() {
	var hs headers
	url := flag.String("url", "", "URL to GET")
	conns := flag.Int("c", 16, "connections (one request in flight on each)")
	dur := flag.Duration("d", 10*time.Second, "measured duration")
	warm := flag.Duration("warmup", time.Second, "unmeasured warm-up before it")
	flag.Var(&hs, "H", "request header 'Name: value' (repeatable)")
	flag.Parse()
	if *url == "" || *conns < 1 {
		fmt.Fprintln(os.Stderr, "usage: httpload -url URL [-H 'K: V'] [-c N] [-d 10s]")
		os.Exit(2)
	}
	r, err := run(*url, hs, *conns, *warm, *dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpload:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

type worker struct {
	lat    []time.Duration
	status map[int]int
	errs   int
	bytes  int64
}

func run(url string, hs headers, conns int, warm, dur time.Duration) (*result, error) {
	client := &fasthttp.Client{MaxConnsPerHost: conns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	start := time.Now()
	measureFrom, stop := start.Add(warm), start.Add(warm+dur)
	ws := make([]*worker, conns)
	var wg sync.WaitGroup
	for i := range ws {
		w := &worker{status: map[int]int{}, lat: make([]time.Duration, 0, 1<<14)}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(url)
			for _, h := range hs {
				k, v, _ := strings.Cut(h, ":")
				req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			for {
				t0 := time.Now()
				if t0.After(stop) {
					return
				}
				err := client.Do(req, resp)
				t1 := time.Now()
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					w.errs++
					continue
				}
				w.lat = append(w.lat, t1.Sub(t0))
				w.status[resp.StatusCode()]++
				w.bytes = int64(len(resp.Body()))
			}
		}()
	}
	wg.Wait()
	r := &result{Conns: conns, Seconds: dur.Seconds(), Status: map[int]int{}}
	var all []time.Duration
	for _, w := range ws {
		all = append(all, w.lat...)
		for k, v := range w.status {
			r.Status[k] += v
		}
		r.Errors += w.errs
		r.Bytes = max(r.Bytes, w.bytes)
	}
	if len(all) == 0 {
		return nil, errors.New("no request completed")
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / 1e6 }
	r.Requests = len(all)
	r.RPS = float64(len(all)) / dur.Seconds()
	r.P50ms, r.P95ms, r.P99ms = pct(0.50), pct(0.95), pct(0.99)
	return r, nil
}

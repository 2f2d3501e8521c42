package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Operations of the mix, and their weights (percent).
const (
	opTree = iota
	opMatRead
	opCreate
	opMove
	opUpload
	opSetup // the tenants' setup writes (prep scope), before the load
	nOps
)

var opNames = [nOps]string{"tree_read", "material_read", "node_create", "node_move", "upload", "setup"}

var weights = [opSetup]int{opTree: 35, opMatRead: 25, opCreate: 17, opMove: 15, opUpload: 8}

// writes spend the prep budget, reads the check budget.
func isWrite(op int) bool { return op >= opCreate }

// tenant is one line of the key file and what setup made for it.
type tenant struct {
	idx                   int
	name, key             string
	prepLimit, checkLimit int
	staticRoot            string   // a 50-node course, only read (tree reads)
	chapters              []string // chapters of the work course: creates, moves, uploads
	mu                    sync.Mutex
	materials             []string // acknowledged materials, for reads
}

// limited says the tenant's limits are meant to be reached in the run.
func (t *tenant) limited() bool { return t.prepLimit < 100000 || t.checkLimit < 100000 }

func readKeys(path string) ([]*tenant, error) {
	f, err := os.Open(path) //nolint:gosec // the key file run.sh names
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	defer f.Close()
	var ts []*tenant
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			continue
		}
		p, err1 := strconv.Atoi(fs[2])
		c, err2 := strconv.Atoi(fs[3])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad key file line %q", sc.Text())
		}
		ts = append(ts, &tenant{idx: len(ts), name: fs[0], key: fs[1], prepLimit: p, checkLimit: c})
	}
	if len(ts) == 0 || len(ts) > 250 {
		return nil, errors.New("the key file names no tenant (or too many)")
	}
	return ts, sc.Err()
}

// rec is one request as the client saw it. Times are from the load's t0.
type rec struct {
	op, tenant int
	status     int  // 0: no response (see err)
	err        int  // errNone, errTimeout, errConn
	detailOK   bool // a 4xx/5xx had a {"detail": "..."} body (429: and Retry-After)
	start, dur time.Duration
}

const (
	errNone = iota
	errTimeout
	errConn
)

// node is a node a client created (acknowledged with 201) and its parent
// after the client's acknowledged moves. A move whose outcome is unknown
// (no answer, 5xx) adds its target to maybe: either parent is correct.
type node struct {
	id, tenant, parent string
	maybe              []string
}

// material is an acknowledged upload.
type material struct {
	id, tenant, node string
	size             int
}

// client is one connection's worth of work; only its goroutine touches it.
type client struct {
	l       *load
	t       *tenant
	rnd     *rand.Rand
	recs    []rec
	nodes   []*node
	mats    []material
	samples []string // 5xx bodies, a few
	req     *fasthttp.Request
	resp    *fasthttp.Response
}

type load struct {
	c         *config
	tenants   []*tenant
	hc        *fasthttp.Client
	t0        time.Time     // time base of every record (the start of setup)
	from      time.Duration // the load's window
	to        time.Duration
	clients   []*client
	setupRecs []rec
}

func newLoad(c *config, ts []*tenant) *load {
	return &load{c: c, tenants: ts, hc: &fasthttp.Client{
		MaxConnsPerHost: c.conns + 16, ReadTimeout: c.timeout, WriteTimeout: c.timeout,
		MaxIdleConnDuration: time.Minute,
	}}
}

// do sends one request and records it; it returns the status (0 when
// there was no response) and the body (valid until the next call).
func (cl *client) do(op int, method, path, ctype string, body []byte) (int, []byte) {
	req, resp := cl.req, cl.resp
	req.Reset()
	resp.Reset()
	req.Header.SetMethod(method)
	req.SetRequestURI(cl.l.c.base + path)
	req.Header.Set("X-API-Key", cl.t.key)
	if ctype != "" {
		req.Header.SetContentType(ctype)
		req.SetBody(body)
	}
	t0 := time.Now()
	err := cl.l.hc.DoTimeout(req, resp, cl.l.c.timeout)
	r := rec{op: op, tenant: cl.t.idx, start: t0.Sub(cl.l.t0), dur: time.Since(t0)}
	switch {
	case errors.Is(err, fasthttp.ErrTimeout):
		r.err = errTimeout
	case err != nil:
		r.err = errConn
	default:
		r.status = resp.StatusCode()
		if r.status >= 400 {
			r.detailOK = hasDetail(resp.Body()) && (r.status != 429 || len(resp.Header.Peek("Retry-After")) > 0)
		}
		if r.status >= 500 && len(cl.samples) < 5 {
			cl.samples = append(cl.samples, fmt.Sprintf("%s %d %s", opNames[op], r.status, resp.Body()))
		}
	}
	cl.recs = append(cl.recs, r)
	return r.status, resp.Body()
}

func hasDetail(b []byte) bool {
	var e struct {
		Detail any `json:"detail"`
	}
	if json.Unmarshal(b, &e) != nil {
		return false
	}
	s, ok := e.Detail.(string)
	return (ok && s != "") || (!ok && e.Detail != nil)
}

func idOf(b []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &v)
	return v.ID
}

// setup makes, per tenant, a 50-node course to read and a work course of
// 8 chapters, in parallel over tenants.
func (l *load) setup(ctx context.Context) error {
	l.t0 = time.Now()
	errs := make([]error, len(l.tenants))
	cls := make([]*client, len(l.tenants))
	var wg sync.WaitGroup
	for i, t := range l.tenants {
		cl := l.newClient(t, int64(i)+1000)
		cls[i] = cl
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = cl.setupTenant()
		}()
	}
	wg.Wait()
	for _, cl := range cls {
		l.setupRecs = append(l.setupRecs, cl.recs...)
		cl.release()
	}
	return errors.Join(errs...)
}

func (cl *client) create(op int, parent, title string) (string, error) {
	path := "/api/v1/nodes"
	if parent != "" {
		path += "/" + parent + "/children"
	}
	body, _ := json.Marshal(map[string]string{"title": title, "description": "A node of the load test: what it covers and what to read first."})
	st, b := cl.do(op, "POST", path, "application/json", body)
	if st != 201 {
		return "", fmt.Errorf("create %q: status %d: %s", title, st, b)
	}
	return idOf(b), nil
}

func (cl *client) setupTenant() error {
	t := cl.t
	root, err := cl.create(opSetup, "", "Course read by the load test")
	if err != nil {
		return err
	}
	t.staticRoot = root
	for c := 1; c <= 7; c++ {
		ch, err := cl.create(opSetup, root, fmt.Sprintf("Chapter %d: a chapter title of ordinary length", c))
		if err != nil {
			return err
		}
		for s := 1; s <= 6; s++ {
			if _, err := cl.create(opSetup, ch, fmt.Sprintf("Lesson %d.%d: a lesson title of ordinary length", c, s)); err != nil {
				return err
			}
		}
	}
	work, err := cl.create(opSetup, "", "Course written by the load test")
	if err != nil {
		return err
	}
	for c := 1; c <= 8; c++ {
		ch, err := cl.create(opSetup, work, fmt.Sprintf("Work chapter %d", c))
		if err != nil {
			return err
		}
		t.chapters = append(t.chapters, ch)
	}
	return nil
}

func (l *load) newClient(t *tenant, seed int64) *client {
	return &client{l: l, t: t, rnd: rand.New(rand.NewPCG(uint64(l.c.seed), uint64(seed))), //nolint:gosec // a reproducible mix, not a secret
		req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(), recs: make([]rec, 0, 4096)}
}

func (cl *client) release() {
	fasthttp.ReleaseRequest(cl.req)
	fasthttp.ReleaseResponse(cl.resp)
}

// outage is a window in which a dependency was down (from the load's t0).
type outage struct {
	name     string
	from, to time.Duration
	took     time.Duration // how long the fault command itself ran
	err      error
}

// drive runs the clients for the duration (and the faults, with -faults);
// it returns the outage windows.
func (l *load) drive(ctx context.Context) []outage {
	start := time.Now()
	stop := start.Add(l.c.dur)
	l.from, l.to = start.Sub(l.t0), stop.Sub(l.t0)
	l.clients = make([]*client, l.c.conns)
	var wg sync.WaitGroup
	for i := range l.clients {
		cl := l.newClient(l.tenants[i%len(l.tenants)], int64(i))
		l.clients[i] = cl
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cl.release()
			for n := 0; n < 10_000_000 && time.Now().Before(stop); n++ {
				cl.step()
			}
		}()
	}
	var outages []outage
	if l.c.faults {
		outages = l.faults(ctx, start)
	}
	wg.Wait()
	return outages
}

func (l *load) faults(ctx context.Context, start time.Time) []outage {
	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }
	var out []outage
	at(l.c.pgAt)
	o := outage{name: "postgres_restart", from: time.Since(l.t0)}
	o.took, o.err = shell(ctx, l.c.pgRestart, 90*time.Second)
	o.to = time.Since(l.t0)
	out = append(out, o)
	fmt.Printf("fault: PostgreSQL restarted in %.1f s (err %v)\n", o.took.Seconds(), o.err)
	at(l.c.s3At)
	o = outage{name: "s3_stopped", from: time.Since(l.t0)}
	_, o.err = shell(ctx, l.c.s3Stop, 30*time.Second)
	at(l.c.s3At + l.c.s3Down)
	var err error
	o.took, err = shell(ctx, l.c.s3Start, 60*time.Second)
	o.err = errors.Join(o.err, err)
	o.to = time.Since(l.t0)
	out = append(out, o)
	fmt.Printf("fault: S3 down %.1f s (err %v)\n", (o.to - o.from).Seconds(), o.err)
	return out
}

// step runs one operation of the mix.
func (cl *client) step() {
	n := cl.rnd.IntN(100)
	op := 0
	for ; op < opSetup-1 && n >= weights[op]; op++ {
		n -= weights[op]
	}
	var st int
	switch op {
	case opTree:
		st, _ = cl.do(op, "GET", "/api/v1/nodes/"+cl.t.staticRoot+"/tree", "", nil)
	case opMatRead:
		st = cl.readMaterial()
	case opCreate:
		st = cl.createNode()
	case opMove:
		if len(cl.nodes) == 0 {
			st = cl.createNode()
		} else {
			st = cl.moveNode()
		}
	case opUpload:
		st = cl.upload()
	}
	if st == 429 {
		// Like a real client, wait before the next call (bounded; the
		// Retry-After of the API is up to 61 s).
		time.Sleep(200 * time.Millisecond)
	}
}

func (cl *client) chapter() string { return cl.t.chapters[cl.rnd.IntN(len(cl.t.chapters))] }

func (cl *client) readMaterial() int {
	t := cl.t
	t.mu.Lock()
	var id string
	if len(t.materials) > 0 && cl.rnd.IntN(10) < 7 {
		id = t.materials[cl.rnd.IntN(len(t.materials))]
	}
	t.mu.Unlock()
	if id != "" {
		st, _ := cl.do(opMatRead, "GET", "/api/v1/materials/"+id, "", nil)
		return st
	}
	st, _ := cl.do(opMatRead, "GET", "/api/v1/nodes/"+cl.chapter()+"/materials", "", nil)
	return st
}

func (cl *client) createNode() int {
	parent := cl.chapter()
	body := []byte(`{"title":"Load node ` + strconv.Itoa(len(cl.nodes)) + `","description":"Created under load."}`)
	st, b := cl.do(opCreate, "POST", "/api/v1/nodes/"+parent+"/children", "application/json", body)
	if st == 201 {
		cl.nodes = append(cl.nodes, &node{id: idOf(b), tenant: cl.t.name, parent: parent})
	}
	return st
}

func (cl *client) moveNode() int {
	n := cl.nodes[cl.rnd.IntN(len(cl.nodes))]
	to := cl.chapter()
	for i := 0; i < 8 && to == n.parent; i++ {
		to = cl.chapter()
	}
	st, _ := cl.do(opMove, "POST", "/api/v1/nodes/"+n.id+"/move", "application/json",
		[]byte(`{"parent_materialnode_id":"`+to+`"}`))
	switch {
	case st == 200:
		n.parent, n.maybe = to, nil
	case st == 0 || st >= 500:
		n.maybe = append(n.maybe, to)
	}
	return st
}

// upload posts a small text file (1-4 KiB) to a work chapter or to one
// of the client's nodes.
func (cl *client) upload() int {
	nodeID := cl.chapter()
	if len(cl.nodes) > 0 && cl.rnd.IntN(2) == 0 {
		nodeID = cl.nodes[cl.rnd.IntN(len(cl.nodes))].id
	}
	size := 1024 + cl.rnd.IntN(3072)
	text := make([]byte, size)
	for i := range text {
		text[i] = "abcdefghij klmnopqrstuvwxyz.\n"[cl.rnd.IntN(29)]
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("source_type", "text")
	fw, _ := w.CreateFormFile("file", "notes-"+strconv.Itoa(len(cl.mats))+".txt")
	_, _ = fw.Write(text)
	_ = w.Close()
	st, b := cl.do(opUpload, "POST", "/api/v1/nodes/"+nodeID+"/materials", w.FormDataContentType(), buf.Bytes())
	if st == 201 {
		m := material{id: idOf(b), tenant: cl.t.name, node: nodeID, size: size}
		cl.mats = append(cl.mats, m)
		cl.t.mu.Lock()
		if len(cl.t.materials) < 100_000 {
			cl.t.materials = append(cl.t.materials, m.id)
		}
		cl.t.mu.Unlock()
	}
	return st
}

package api_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/api"
)

// stalledUpload opens an upload on a raw connection, sends half of its
// body and then nothing: a slow-loris client.
func stalledUpload(t *testing.T, base, key, node string) net.Conn {
	t.Helper()
	ct, body := multipartBody(t, field("source_type", "text"), file("slow.txt", bytes.Repeat([]byte("x"), 1<<20)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	fmt.Fprintf(conn, "POST /api/v1/nodes/%s/materials HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		node, key, ct, len(body))
	if _, err := conn.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestStalledUploadsOfOneTenantLeaveSlotsForOthers: four stalled uploads
// of one tenant used to take all four slots, so every other tenant got
// 503 "Too many concurrent uploads". A tenant now holds at most its share.
func TestStalledUploadsOfOneTenantLeaveSlotsForOthers(t *testing.T) {
	t.Parallel()
	s := mustStack(t, func(o *api.Options) { o.UploadConcurrency = 4; o.UploadTenantSlots = 2 })
	_, keyA := s.tenantWithKey("a")
	_, keyB := s.tenantWithKey("b")
	nodeA, nodeB := s.mustCreate(keyA, "", "A"), s.mustCreate(keyB, "", "B")
	base := s.listen()
	var refused int
	for range 4 {
		conn := stalledUpload(t, base, keyA, nodeA)
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" {
				t.Fatalf("tenant A's extra upload: %d %v", resp.StatusCode, resp.Header)
			}
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("%d of tenant A's 4 stalled uploads refused, want 2 (its share is 2)", refused)
	}
	start := time.Now()
	r := s.upload(keyB, nodeB, field("source_type", "text"), file("b.txt", []byte("hello")))
	if r.Status != http.StatusCreated {
		t.Fatalf("tenant B's upload while A stalls: %d %s (after %s)", r.Status, r.Raw, time.Since(start))
	}
}

// TestStalledUploadBodyIsCutOff: a body that sends nothing for the idle
// timeout ends with 400 and frees its slot, instead of holding it for the
// whole read timeout.
func TestStalledUploadBodyIsCutOff(t *testing.T) {
	t.Parallel()
	s := mustStack(t, func(o *api.Options) { o.UploadConcurrency = 1; o.UploadIdle = time.Second })
	_, key := s.tenantWithKey("a")
	node := s.mustCreate(key, "", "A")
	base := s.listen()
	conn := stalledUpload(t, base, key, node)
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled upload within 10 s: %v", err)
	}
	held := time.Since(start)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("stalled upload: %d", resp.StatusCode)
	}
	t.Logf("stalled upload answered %d after %s", resp.StatusCode, held.Round(10*time.Millisecond))
	if r := s.upload(key, node, field("source_type", "text"), file("b.txt", []byte("hello"))); r.Status != http.StatusCreated {
		t.Fatalf("the slot was not freed: %d %s", r.Status, r.Raw)
	}
	if n := len(s.multipartUploads()); n != 0 {
		t.Fatalf("%d multipart uploads left behind", n)
	}
}

// TestDeclaredLengthOverLimitRefusedUnread: a Content-Length over the
// limit is answered 413 at once, before the body is sent (the client sends
// the headers only), and the connection is closed.
func TestDeclaredLengthOverLimitRefusedUnread(t *testing.T) {
	t.Parallel()
	s := mustStack(t, func(o *api.Options) { o.MaxRequestBytes = 1 << 30 })
	_, key := s.tenantWithKey("a")
	node := s.mustCreate(key, "", "A")
	base := s.listen()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/nodes/%s/materials HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n",
		node, key, int64(1)<<40)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 TiB declared, no body sent: %v %v", resp, err)
	}
	if !resp.Close {
		t.Fatal("the connection must close: the unread body is not a next request")
	}
}

// TestUploadWaitingForTheTreeLockFreesItsSlot: an upload whose body is
// read gives its slot back before it records the material, which may
// wait for the tenant's tree lock (a burst of that tenant's node writes,
// another process). With one slot, tenant A's upload waits for A's tree
// while tenant B's upload streams and is created; before, B waited the
// 5 s slot timeout for A's upload and got 503.
func TestUploadWaitingForTheTreeLockFreesItsSlot(t *testing.T) {
	t.Parallel()
	s := mustStack(t, func(o *api.Options) { o.UploadConcurrency = 1 })
	tenantA, keyA := s.tenantWithKey("a")
	_, keyB := s.tenantWithKey("b")
	nodeA, nodeB := s.mustCreate(keyA, "", "A"), s.mustCreate(keyB, "", "B")
	ctx := context.Background()
	holder, err := s.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Rollback(ctx) })
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "tree:"+tenantA.String()); err != nil {
		t.Fatal(err)
	}
	ct, body := multipartBody(t, field("source_type", "text"), file("a.txt", []byte("from A")))
	doneA := make(chan int, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/nodes/"+nodeA+"/materials", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-API-Key", keyA)
		resp, err := s.srv.App().Test(req, 30_000)
		if err != nil {
			doneA <- 0
			return
		}
		_ = resp.Body.Close()
		doneA <- resp.StatusCode
	}()
	// A's upload has stored its file and waits for A's tree lock.
	for deadline := time.Now().Add(10 * time.Second); s.count(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event = 'advisory'`) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("tenant A's upload never reached the tree lock")
		}
	}

	start := time.Now()
	if r := s.upload(keyB, nodeB, field("source_type", "text"), file("b.txt", []byte("from B"))); r.Status != http.StatusCreated {
		t.Fatalf("tenant B's upload while A's waits for its tree: %d %s (after %s)", r.Status, r.Raw, time.Since(start))
	}
	select {
	case code := <-doneA:
		t.Fatalf("tenant A's upload finished (%d) while its tree was locked", code)
	default:
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if code := <-doneA; code != http.StatusCreated {
		t.Fatalf("tenant A's upload after its tree was unlocked: %d", code)
	}
}

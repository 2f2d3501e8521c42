package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/api"
	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// Ensure a client that disconnects mid-upload leaves no object, no
// multipart upload and no row.
func TestUploadClientDisconnect(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	base := s.listen()
	ct, body := multipartBody(t, field("source_type", "text"), file("big.txt", bytes.Repeat([]byte("x"), 16<<20)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/nodes/%s/materials HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		node, key, ct, len(body))
	if _, err := conn.Write(body[:12<<20]); err != nil { // more than one 5 MiB part
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	_ = conn.Close()
	eventually(t, 10*time.Second, "the aborted upload to leave nothing", func() bool {
		return len(s.objects()) == 0 && len(s.multipartUploads()) == 0
	})
	time.Sleep(300 * time.Millisecond)
	if n := s.count(`SELECT count(*) FROM material_entries`); n != 0 {
		t.Fatalf("%d rows after a disconnect", n)
	}
}

// Ensure storage failing on part 3 answers 503 and leaves nothing behind.
func TestUploadStorageFailsOnPart3(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	var failed atomic.Int32
	target, _ := url.Parse(s.s3.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "3" {
			failed.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			http.Error(w, "<Error><Code>InternalError</Code></Error>", http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	flaky := objstore.New(objstore.Options{
		Endpoint: "http://" + ln.Addr().String(), Region: s3test.Region, AccessKey: s3test.AccessKey,
		SecretKey: s3test.SecretKey, Bucket: s.s3.Bucket, ForcePathStyle: true, PartSize: 5 << 20,
	})
	s2 := mustStackOn(t, s.db)
	s2.swapObjects(flaky)
	_, key := s2.tenantWithKey("acme")
	node := s2.mustCreate(key, "", "Course")
	r := s2.upload(key, node, field("source_type", "text"), file("big.txt", bytes.Repeat([]byte("y"), 16<<20)))
	if r.Status != 503 || r.detail(t) != "Storage unavailable" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if failed.Load() < 3 {
		t.Fatalf("part 3 was tried %d times, want retries", failed.Load())
	}
	if len(s.objects()) != 0 || len(s.multipartUploads()) != 0 {
		t.Fatalf("left behind: %v %v", s.objects(), s.multipartUploads())
	}
	if n := s.count(`SELECT count(*) FROM material_entries`); n != 0 {
		t.Fatalf("%d rows", n)
	}
}

// Ensure uploads beyond UPLOAD_MAX_CONCURRENT wait at most 5 s and then get
// 503 with Retry-After, while the running upload is unaffected.
func TestUploadConcurrencyLimit(t *testing.T) {
	t.Parallel()
	s := mustStack(t, func(o *api.Options) { o.UploadConcurrency = 1 })
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	base := s.listen()
	ct, body := multipartBody(t, field("source_type", "text"), file("slow.txt", bytes.Repeat([]byte("x"), 1<<20)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/nodes/%s/materials HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		node, key, ct, len(body))
	if _, err := conn.Write(body[:len(body)/2]); err != nil { // the slow client holds the only slot
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	r := s.upload(key, node, field("source_type", "text"), file("b.txt", []byte("b")))
	if r.Status != 503 || r.detail(t) != "Too many concurrent uploads" || r.Header.Get("Retry-After") != "30" {
		t.Fatalf("second upload: %d %s %v", r.Status, r.Raw, r.Header)
	}
	if _, err := conn.Write(body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("slow upload: %v %v", resp, err)
	}
}

// Ensure body bytes a handler did not read are never parsed as another
// request on the same connection (request smuggling).
func TestUnreadBodyIsNotSmuggled(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	base := s.listen()
	smuggled := "GET /livez?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n"
	body := strings.Repeat(" ", 8192) + smuggled
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("first response: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if second, err := http.ReadResponse(br, nil); err == nil {
		t.Fatalf("the unread body was served as a second request: %d", second.StatusCode)
	}
}

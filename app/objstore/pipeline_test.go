package objstore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// sinkS3 is just enough S3 for a multipart upload, discarding every body:
// unlike gofakes3 it keeps no object in memory, so the allocations of a
// test are those of the client. It records how many parts were in flight.
type sinkS3 struct {
	partStarted           func(part string) // optional hook, may block
	inflight, maxInflight atomic.Int32
	parts                 atomic.Int32
	bytes                 atomic.Int64
}

func (f *sinkS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		_, _ = io.WriteString(w, `<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut && q.Has("partNumber"):
		n := f.inflight.Add(1)
		for m := f.maxInflight.Load(); n > m && !f.maxInflight.CompareAndSwap(m, n); m = f.maxInflight.Load() {
		}
		if f.partStarted != nil {
			f.partStarted(q.Get("partNumber"))
		}
		c, _ := io.Copy(io.Discard, r.Body)
		f.bytes.Add(c)
		f.parts.Add(1)
		f.inflight.Add(-1)
		w.Header().Set("ETag", `"e`+q.Get("partNumber")+`"`)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `<CompleteMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><ETag>"e"</ETag></CompleteMultipartUploadResult>`)
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "not in this fake", http.StatusBadRequest)
	}
}

func sinkStore(t *testing.T, f *sinkS3) *objstore.Store {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return objstore.New(objstore.Options{
		Endpoint: srv.URL, Region: s3test.Region, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
		Bucket: "bucket", ForcePathStyle: true, PartSize: 5 * mib,
	})
}

// Memory does not grow with the object: a 64 MiB upload in 5 MiB parts
// allocates about two part buffers (the pipeline's), not the object; a
// second upload on the same Store mostly reuses them (sync.Pool is best
// effort, so that is only logged). (Not parallel: TotalAlloc is
// process-wide, and sequential tests run alone.)
func TestUploadMemoryIsConstant(t *testing.T) {
	f := &sinkS3{}
	s := sinkStore(t, f)
	const size = 64 * mib
	for i, limit := range []uint64{20 * mib, 20 * mib} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, err := s.Upload(context.Background(), "k", "video/mp4", newPattern(size))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("upload %d: %d MiB allocated for a %d MiB object", i+1, alloc/mib, size/mib)
		if res.Size != size || alloc > limit {
			t.Fatalf("upload %d: size %d, allocated %d bytes (limit %d)", i+1, res.Size, alloc, limit)
		}
	}
	if f.bytes.Load() != 2*size || f.parts.Load() != 2*13 {
		t.Fatalf("server got %d bytes in %d parts", f.bytes.Load(), f.parts.Load())
	}
}

// Reading the client and sending storage overlap, with two buffers and no
// more: part 1 is held at the server until the reader is into part 2
// (without overlap this would time out); meanwhile the reader cannot get
// further than the second buffer; and two parts are in flight at most (the
// second is sent as soon as its buffer is full), never more.
func TestUploadPipelinesTwoBuffers(t *testing.T) {
	t.Parallel()
	const part = 5 * mib
	r := newPattern(4*part + 123)
	var readOff atomic.Int64
	intoPart2 := make(chan struct{})
	r.at, r.after = part+1, func() error { close(intoPart2); return nil }
	counted := readerFunc(func(b []byte) (int, error) {
		n, err := r.Read(b)
		readOff.Add(int64(n))
		return n, err
	})
	overlapped, bounded := false, true
	checked := make(chan struct{})
	var f *sinkS3
	f = &sinkS3{partStarted: func(p string) {
		switch p {
		case "2": // held too: with both buffers in flight the reader must stop
			<-checked
			return
		case "1":
		default:
			return
		}
		defer close(checked)
		select {
		case <-intoPart2:
			overlapped = true
		case <-time.After(10 * time.Second):
			return
		}
		// Part 2 is sent as soon as its buffer is full: wait for it to
		// arrive (a loaded machine may take a while; a pipeline that holds
		// one part at a time never gets here and the test fails on max in
		// flight), then let the reader run as far as it can.
		for deadline := time.Now().Add(10 * time.Second); f.inflight.Load() < 2 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		bounded = readOff.Load() <= 2*part
	}}
	res, err := sinkStore(t, f).Upload(context.Background(), "k", "video/mp4", counted)
	if err != nil {
		t.Fatal(err)
	}
	if !overlapped || !bounded || f.maxInflight.Load() != 2 || f.parts.Load() != 5 || res.Size != 4*part+123 {
		t.Fatalf("overlapped %v, bounded %v, max in flight %d, parts %d, size %d",
			overlapped, bounded, f.maxInflight.Load(), f.parts.Load(), res.Size)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

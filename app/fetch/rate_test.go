package fetch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/fetch"
)

// Ensure a server that trickles (one byte every 100 ms, never quiet long
// enough for the stall timeout) is given up on once the average rate falls
// below the minimum after the grace period, with a client-safe error (a
// permanent failure for the job), long before the fetch's own timeout.
func TestTrickleBelowMinimumRate(t *testing.T) {
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", "1000000")
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}, Timeout: time.Hour,
		StallTimeout: 300 * time.Millisecond, MaxBytes: 1 << 30, MinBytesPerSec: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := f.Download(ctx, fmt.Sprintf("http://127.0.0.1:%d/v.mp4", port), nil, io.Discard)
	want := "Download too slow: below 1000 bytes per second"
	if course.ErrorCode(err) != course.EINVALID || course.ErrorMessage(err) != want {
		t.Fatalf("trickle: err = %v, want EINVALID %q", err, want)
	}
	if ctx.Err() != nil {
		t.Fatal("the trickle was only stopped by the caller's deadline")
	}
}

// Ensure the whole fetch is bounded by the size limit at the minimum rate,
// also where no body byte is read: here a chain of redirects, each answered
// just inside the stall timeout, that together take longer than the
// derived deadline (100 bytes at 100 B/s after a 300 ms grace: 2.3 s)
// fails as too slow, not after the fetch's one-hour timeout.
func TestDeadlineDerivedFromSizeAndRate(t *testing.T) {
	_, port, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(250 * time.Millisecond)
		hop, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if hop < 15 {
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", hop+1), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write([]byte("%PDF-1.4"))
	})
	f := fetch.New(fetch.Options{AllowPrivate: true, AllowedPorts: []int{port}, Timeout: time.Hour, MaxRedirects: 20,
		StallTimeout: 300 * time.Millisecond, MaxBytes: 100, MinBytesPerSec: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := f.Download(ctx, fmt.Sprintf("http://127.0.0.1:%d/hop/0", port), nil, io.Discard)
	if course.ErrorCode(err) != course.EINVALID || course.ErrorMessage(err) != "Download too slow: below 100 bytes per second" {
		t.Fatalf("err = %v, want the permanent too-slow error", err)
	}
}

package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: the state follows the last ')'.
	s := string(b)
	rest := s[strings.LastIndexByte(s, ')')+1:]
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// mustPid reads the pid a script wrote to file.
func mustPid(t *testing.T, file string) int {
	t.Helper()
	var b []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, _ = os.ReadFile(file); bytes.HasSuffix(b, []byte("\n")) {
			break
		}
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("no pid in %s: %q", file, b)
	}
	return pid
}

// waitGone waits until pid is gone; killing is asynchronous.
func waitGone(pid int) bool {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return true
		}
	}
	return false
}

// script writes an executable shell script.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tool.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// Ensure a timeout kills the tool's whole process group: a grandchild
// (here a sleep started in the background, standing in for a
// downloader's ffmpeg) does not outlive the job.
func TestToolTimeoutKillsGrandchildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	tool := script(t, "sleep 300 &\necho $! > "+pidFile+"\nwait\n")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := runTool(ctx, tool); err == nil {
		t.Fatal("a tool past its timeout succeeded")
	}
	pid := mustPid(t, pidFile)
	if !waitGone(pid) {
		_ = killGroup(pid)
		t.Fatalf("grandchild %d survived the timeout", pid)
	}
}

// Ensure the downloader is told the size limit and stopped while it
// writes past it, children included: the writer is a background child
// that would write 25 MiB and then leave a marker; with a 1 MiB limit it
// is killed long before, and the failure is permanent.
func TestDownloaderKilledPastSizeLimit(t *testing.T) {
	dir := t.TempDir()
	envFile, pidFile := filepath.Join(t.TempDir(), "env"), filepath.Join(t.TempDir(), "pid")
	tool := script(t, `eval out=\${$#}
echo "$DOWNLOAD_MAX_BYTES" > `+envFile+`
( i=0; while [ $i -lt 400 ]; do head -c 65536 /dev/zero >> "$out"; i=$((i+1)); sleep 0.01; done; touch "$out.done" ) &
echo $! > `+pidFile+`
wait
`)
	d := &Downloader{Command: []string{tool}, MaxBytes: 1 << 20}
	_, _, err := d.Fetch(context.Background(), "https://www.youtube.com/watch?v=x", dir)
	wantLimit(t, "oversized download", err, MsgDownloadTooLarge)
	if b, _ := os.ReadFile(envFile); strings.TrimSpace(string(b)) != strconv.Itoa(1<<20) {
		t.Errorf("DOWNLOAD_MAX_BYTES = %q, want %d", b, 1<<20)
	}
	pid := mustPid(t, pidFile)
	if !waitGone(pid) {
		_ = killGroup(pid)
		t.Fatalf("the writing child %d survived", pid)
	}
	if _, err := os.Stat(filepath.Join(dir, "media.done")); err == nil {
		t.Fatal("the downloader wrote all 25 MiB: the limit was only checked afterwards")
	}
	if st, err := os.Stat(filepath.Join(dir, "media")); err != nil || st.Size() > 16<<20 {
		t.Fatalf("written before the kill: %v %v", st, err)
	}
}

// Ensure a downloader that trickles (one byte every 100 ms) is stopped
// permanently once its average falls below the minimum rate after the
// grace period, instead of holding the ingest slot for the job timeout.
func TestDownloaderKilledBelowMinimumRate(t *testing.T) {
	dir := t.TempDir()
	tool := script(t, `eval out=\${$#}
i=0; while [ $i -lt 600 ]; do printf x >> "$out"; i=$((i+1)); sleep 0.1; done
`)
	d := &Downloader{Command: []string{tool}, MaxBytes: 1 << 30, MinBytesPerSec: 1000, Grace: 300 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := d.Fetch(ctx, "https://www.youtube.com/watch?v=x", dir)
	wantLimit(t, "trickling download", err, fmt.Sprintf(MsgDownloadTooSlow, 1000))
	if ctx.Err() != nil {
		t.Fatal("the trickle was only stopped by the job's timeout")
	}
}

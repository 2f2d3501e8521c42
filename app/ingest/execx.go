package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// DefaultToolTimeout bounds one external tool run when the caller's
// context has no deadline of its own.
const DefaultToolTimeout = 10 * time.Minute

// maxToolOutput caps what is kept of a tool's stdout.
const maxToolOutput = 64 << 20

// watchEvery is how often a running tool's watch function is called: at
// 100 MB/s of writes, a size limit is overshot by at most 10 MB.
const watchEvery = 100 * time.Millisecond

// MsgToolOutputTooLarge is the failure of a tool that printed more than
// its output limit (a PDF of endless text): the same input would print as
// much again, so it is permanent.
const MsgToolOutputTooLarge = "Document too large: the extracted text exceeds the output limit"

// ErrToolOutputTooLarge reports a tool that printed more than its output
// limit (permanent; match with errors.Is).
var ErrToolOutputTooLarge error = &PermanentError{Msg: MsgToolOutputTooLarge}

// cappedBuffer keeps at most max bytes. Past them, without full, the rest
// is dropped (stderr: only its start is reported); with full, the first
// write past them calls full (which stops the tool) and fails. The
// buffer is a field, not embedded: an embedded bytes.Buffer's ReadFrom
// would be used by io.Copy and bypass Write, and with it the cap.
type cappedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
	full     func()
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); len(p) > room {
		if c.full == nil {
			c.buf.Write(p[:max(room, 0)])
			return len(p), nil
		}
		if !c.overflow {
			c.full()
		}
		c.overflow = true
		return 0, ErrToolOutputTooLarge
	}
	return c.buf.Write(p)
}

// toolRun is one run of an external tool.
type toolRun struct {
	name   string
	args   []string
	maxOut int      // stdout kept; 0 = maxToolOutput
	env    []string // added to the inherited environment
	// watch, when set, is called every watchEvery while the tool runs; its
	// first error stops the tool and its children and is returned as is.
	watch func() error
}

// runTool runs name with args under ctx (plus DefaultToolTimeout when ctx
// has no deadline) and returns stdout. Errors carry the tool's stderr.
func runTool(ctx context.Context, name string, args ...string) ([]byte, error) {
	return toolRun{name: name, args: args}.run(ctx)
}

// run starts the tool in a process group of its own, so that a timeout, a
// cancellation or a limit kills everything it started (a downloader's
// ffmpeg, a shell's children), not only the direct child; the group is
// killed again after the tool exits, for children it left running.
func (r toolRun) run(ctx context.Context) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultToolTimeout)
		defer cancel()
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	// The binary is the operator-configured tool path; arguments are passed
	// as a vector, never through a shell.
	cmd := exec.CommandContext(runCtx, r.name, r.args...) //nolint:gosec // G204: see above
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	maxOut := r.maxOut
	if maxOut <= 0 {
		maxOut = maxToolOutput
	}
	stdout := &cappedBuffer{max: maxOut, full: func() { stop(ErrToolOutputTooLarge) }}
	stderr := &cappedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if len(r.env) > 0 {
		cmd.Env = append(cmd.Environ(), r.env...)
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil { // not started (missing binary, ...)
		return nil, fmt.Errorf("%s: %w", r.name, err)
	}
	watched := r.startWatch(stop)
	err := cmd.Wait()
	close(watched)
	_ = killGroup(cmd.Process.Pid)
	if cause := context.Cause(runCtx); runCtx.Err() != nil && ctx.Err() == nil && cause != nil {
		return nil, cause // a limit of this run: ErrToolOutputTooLarge or the watch's error
	}
	if stdout.overflow {
		return nil, ErrToolOutputTooLarge
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", r.name, ctx.Err())
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// Killed from outside (the OOM killer, an operator): not the
			// input's fault, so a plain, retryable error.
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
		return nil, &ToolError{Tool: r.name, Err: err, Stderr: strings.TrimSpace(stderr.buf.String())}
	}
	return stdout.buf.Bytes(), nil
}

// startWatch calls r.watch until the returned channel is closed, and stops
// the run with the watch's first error.
func (r toolRun) startWatch(stop context.CancelCauseFunc) chan struct{} {
	done := make(chan struct{})
	if r.watch == nil {
		return done
	}
	go func() {
		t := time.NewTicker(watchEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := r.watch(); err != nil {
					stop(err)
					return
				}
			}
		}
	}()
	return done
}

// killGroup sends SIGKILL to the process group pgid (a group that is
// already gone is not an error).
func killGroup(pgid int) error {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// ToolError is a run of an external tool that exited unsuccessfully (a
// tool that could not start is a plain, retryable error).
type ToolError struct {
	Tool   string
	Err    error
	Stderr string
}

func (e *ToolError) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.Tool, e.Err, e.Stderr)
}

func (e *ToolError) Unwrap() error { return e.Err }

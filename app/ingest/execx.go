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

// ErrToolOutputTooLarge reports a tool that printed more than maxToolOutput.
var ErrToolOutputTooLarge = errors.New("ingest: tool output exceeds limit")

// cappedBuffer keeps at most max bytes and remembers an overflow.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		c.overflow = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// runTool runs name with args under ctx (plus DefaultToolTimeout when ctx
// has no deadline) and returns stdout. Errors carry the tool's stderr.
func runTool(ctx context.Context, name string, args ...string) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultToolTimeout)
		defer cancel()
	}
	// The binary is the operator-configured tool path; arguments are passed
	// as a vector, never through a shell.
	cmd := exec.CommandContext(ctx, name, args...) //nolint:gosec // G204: see above
	stdout := &cappedBuffer{max: maxToolOutput}
	stderr := &cappedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) { // not started (missing binary, ...)
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// Killed from outside (the OOM killer, an operator): not the
			// input's fault, so a plain, retryable error.
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, &ToolError{Tool: name, Err: err, Stderr: strings.TrimSpace(stderr.String())}
	}
	if stdout.overflow {
		return nil, fmt.Errorf("%s: %w", name, ErrToolOutputTooLarge)
	}
	return stdout.Bytes(), nil
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

package ingest

import (
	"context"
	"errors"
	"testing"
)

// Ensure a tool failing on its input is a ToolError (permanent for the
// job), while a tool killed by a signal (the OOM killer) is a plain,
// retryable error.
func TestRunToolExitVersusSignal(t *testing.T) {
	var te *ToolError
	_, err := runTool(context.Background(), "sh", "-c", "echo bad input >&2; exit 1")
	if !errors.As(err, &te) || te.Stderr != "bad input" {
		t.Fatalf("exit 1: %v", err)
	}
	_, err = runTool(context.Background(), "sh", "-c", "kill -KILL $$")
	if err == nil || errors.As(err, &te) {
		t.Fatalf("killed by a signal: want a plain error, got %v", err)
	}
}

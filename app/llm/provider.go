package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

// Provider is one vendor API. Implementations make exactly one HTTP call
// per method (their SDK's own retries are off: the router owns retries)
// and report failures as *CallError so the router can classify them.
type Provider interface {
	Complete(ctx context.Context, m *ModelSpec, req course.CompletionRequest) (*Reply, error)
	Transcribe(ctx context.Context, m *ModelSpec, req course.TranscriptionRequest) (*Reply, error)
	Embed(ctx context.Context, m *ModelSpec, texts []string) (*Reply, error)
}

// Reply is what one successful provider call returned.
type Reply struct {
	Text     string // chat reply, or the tool input JSON (tool mode)
	UnitsIn  int64  // prompt tokens, or audio seconds
	UnitsOut int64
	Segments []course.TranscriptSegment
	Vectors  [][]float32
	// Seconds is the audio duration the provider reported (transcription).
	Seconds float64
}

// CallError is a failed attempt, classified by the spec's error classes:
// permanent errors skip the model at once, the others are retried.
type CallError struct {
	Status     int // HTTP status; 0 for network errors and bad replies
	Permanent  bool
	RetryAfter time.Duration // from a Retry-After header, 0 if none
	Msg        string
	Err        error
}

// Error implements error.
func (e *CallError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap exposes the cause.
func (e *CallError) Unwrap() error { return e.Err }

// retryable builds a retryable failure (empty reply, parse or validation
// failure, network error, timeout).
func retryable(msg string, err error) *CallError { return &CallError{Msg: msg, Err: err} }

// permanent builds a failure no retry can fix.
func permanent(msg string, err error) *CallError {
	return &CallError{Permanent: true, Msg: msg, Err: err}
}

// httpFailure classifies an HTTP error answer: 400, 401, 403, 404, 422
// and "invalid request" / "context length exceeded" bodies are permanent;
// 408, 409, 425, 429, 5xx and 529 are retryable.
func httpFailure(status int, header http.Header, message, code string) *CallError {
	e := &CallError{Status: status, Msg: fmt.Sprintf("HTTP %d", status)}
	if message != "" {
		e.Msg += ": " + message
	}
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		e.Permanent = true
	}
	lower := strings.ToLower(message + " " + code)
	if strings.Contains(lower, "context length") || strings.Contains(lower, "context_length_exceeded") ||
		strings.Contains(lower, "invalid_request") {
		e.Permanent = true
	}
	if header != nil {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	return e
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// transportFailure classifies an error without an HTTP answer. A
// cancelled caller is returned unchanged so the router stops the chain.
func transportFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return retryable("request timed out", err)
	}
	return retryable("request failed", err)
}

// schemaInstruction is appended to the system prompt in json_object and
// prompt modes, where the API cannot carry the schema itself.
func schemaInstruction(schema json.RawMessage) string {
	return "\n\nReply with exactly one JSON object and nothing else. It must validate against this JSON schema:\n" +
		string(schema)
}

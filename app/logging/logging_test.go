package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/logging"
)

type creds struct {
	User     string            `json:"user"`
	Password string            `json:"password"`
	Nested   map[string]string `json:"nested"`
	List     []map[string]any  `json:"list"`
}

// Ensure secrets never reach the output, whatever key case, depth or
// container type carries them, in both formats.
func TestRedaction(t *testing.T) {
	const key = "cs_live_0123456789abcdef0123456789abcdef"
	secrets := []string{key, "hunter2", "s3cr3t", "tok-123", "Bearer xyz", "deadbeefhash"}
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := logging.New(&buf, logging.Options{Format: format, Level: "debug"})
			log.Info("login with "+key,
				"API_KEY", key,
				"Password", "hunter2",
				slog.Group("outer", slog.Group("inner", "SeCrEt", "s3cr3t", "ok", "visible")),
				slog.Group("token", "value", "tok-123"),
				"headers", map[string]any{"Authorization": "Bearer xyz", "x-api-key": key},
				"creds", creds{User: "bob", Password: "hunter2", Nested: map[string]string{"key_hash": "deadbeefhash"},
					List: []map[string]any{{"token": "tok-123"}}},
				"err", errors.New("bad key "+key),
			)
			log.With("secret", "s3cr3t").WithGroup("g").Info("with", "Token", "tok-123")
			out := buf.String()
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("output contains secret %q:\n%s", s, out)
				}
			}
			for _, want := range []string{"visible", "bob", "cs_live_0123", logging.Redacted} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// Ensure JSON lines use the documented field names.
func TestJSONSchema(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, logging.Options{Format: "json", Level: "info", Version: "v1"})
	log.Debug("hidden")
	log.Warn("app_started", "logger", "http")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, buf.String())
	}
	if m["event"] != "app_started" || m["level"] != "warn" || m["version"] != "v1" {
		t.Fatalf("unexpected fields: %v", m)
	}
	ts, _ := m["timestamp"].(string)
	if !strings.HasSuffix(ts, "Z") {
		t.Fatalf("timestamp not UTC RFC 3339: %q", ts)
	}
}

func TestRedactURL(t *testing.T) {
	got := logging.RedactURL("https://u:pw@s3.example/b/k?X-Amz-Signature=abc")
	if got != "https://u@s3.example/b/k" {
		t.Fatalf("got %q", got)
	}
}

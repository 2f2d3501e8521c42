// Package logging builds the process logger: log/slog with the field names
// operators query (timestamp, level, event), JSON in production, and a
// redaction layer that no call site can forget to use.
package logging

import (
	"io"
	"log/slog"
	"strings"
	"time"
)

// Options selects format and level.
type Options struct {
	Format  string // "json" or "text"
	Level   string // debug, info, warn, error
	Version string
}

// New returns a logger writing to w. Every record passes through the
// redacting handler, so secrets are masked wherever they are logged.
func New(w io.Writer, o Options) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: ParseLevel(o.Level), ReplaceAttr: replaceAttr}
	var h slog.Handler
	if o.Format == "text" {
		h = slog.NewTextHandler(w, hopts)
	} else {
		h = slog.NewJSONHandler(w, hopts)
	}
	l := slog.New(h)
	if o.Version != "" {
		l = l.With("version", o.Version)
	}
	return l
}

// ParseLevel maps a LOG_LEVEL value to a slog level (info when unknown).
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// replaceAttr renames the built-in keys to the documented schema and
// redacts sensitive attributes at any group depth.
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 {
		switch a.Key {
		case slog.TimeKey:
			if t, ok := a.Value.Any().(time.Time); ok {
				return slog.String("timestamp", t.UTC().Format(time.RFC3339Nano))
			}
		case slog.LevelKey:
			return slog.String("level", strings.ToLower(a.Value.String()))
		case slog.MessageKey:
			return slog.String("event", MaskString(a.Value.String()))
		}
	}
	for _, g := range groups {
		if IsSensitive(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	return redactAttr(a)
}

package logging

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/course-supporter/course-supporter/app/course"
)

// Redacted replaces the value of every sensitive attribute.
const Redacted = "***REDACTED***"

var sensitiveKeys = map[string]bool{
	"api_key":       true,
	"x-api-key":     true,
	"key_hash":      true,
	"password":      true,
	"secret":        true,
	"token":         true,
	"authorization": true,
}

// IsSensitive reports whether a log key names a secret (case-insensitive).
func IsSensitive(key string) bool { return sensitiveKeys[strings.ToLower(key)] }

// MaskString hides API keys inside free text, keeping only the public
// prefix so a key can still be correlated with the CLI listing.
func MaskString(s string) string {
	if !strings.Contains(s, "cs_") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "cs_")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		if k := s[i:min(len(s), i+course.KeyLen)]; course.ValidKey(k) { // the one key-format rule
			b.WriteString(k[:len("cs_live_")+4] + "…" + Redacted)
			s = s[i+course.KeyLen:]
			continue
		}
		b.WriteString("cs_")
		s = s[i+3:]
	}
}

func redactAttr(a slog.Attr) slog.Attr {
	if IsSensitive(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, MaskString(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]slog.Attr, len(attrs))
		for i, g := range attrs {
			out[i] = redactAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		return slog.Any(a.Key, redactAny(v.Any()))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}

// redactAny handles maps, structs and slices by round-tripping them through
// JSON, the same shape the JSON handler would print, and redacting keys at
// every depth. Errors and Stringers are logged by their text.
func redactAny(x any) any {
	switch t := x.(type) {
	case nil:
		return nil
	case error:
		return MaskString(t.Error())
	case *url.URL:
		return RedactURL(t.String())
	case fmt.Stringer:
		return MaskString(t.String())
	case []byte:
		return MaskString(string(t))
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprintf("<unloggable %T>", x)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return fmt.Sprintf("<unloggable %T>", x)
	}
	return walk(generic)
}

func walk(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			if IsSensitive(k) {
				t[k] = Redacted
			} else {
				t[k] = walk(v)
			}
		}
		return t
	case []any:
		for i, v := range t {
			t[i] = walk(v)
		}
		return t
	case string:
		return MaskString(t)
	default:
		return t
	}
}

// RedactURL drops the query string (signatures of presigned URLs live
// there) and any password in the user info.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable url>"
	}
	u.RawQuery = ""
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

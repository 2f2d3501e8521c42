package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// LookupFunc reads one environment variable; os.LookupEnv in production,
// a map in tests. Config never calls os.Getenv itself.
type LookupFunc func(name string) (string, bool)

// Problem is one invalid or missing variable.
type Problem struct {
	Var string
	Msg string
}

// String renders a problem as the one line printed at startup.
func (p Problem) String() string { return p.Var + ": " + p.Msg }

// Problems is every configuration problem found, reported together so an
// operator fixes them in one round instead of one restart per variable.
type Problems []Problem

// Error implements error; one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "config: " + p.String()
	}
	return strings.Join(lines, "\n")
}

// loader reads typed values and collects problems instead of stopping at
// the first one. It also records every name it reads, which lets a test
// prove .env.example documents all of them.
type loader struct {
	lookup   LookupFunc
	problems Problems
	read     map[string]bool
}

func newLoader(lookup LookupFunc) *loader {
	return &loader{lookup: lookup, read: map[string]bool{}}
}

func (l *loader) fail(name, format string, args ...any) {
	l.problems = append(l.problems, Problem{Var: name, Msg: fmt.Sprintf(format, args...)})
}

// raw returns the trimmed value and whether it was set to something non-empty.
func (l *loader) raw(name string) (string, bool) {
	l.read[name] = true
	v, ok := l.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (l *loader) str(name, def string) string {
	if v, ok := l.raw(name); ok {
		return v
	}
	return def
}

// strOrEmpty is str for variables where an explicit empty value means
// "off" (METRICS_ADDR=).
func (l *loader) strOrEmpty(name, def string) string {
	l.read[name] = true
	v, ok := l.lookup(name)
	if !ok {
		return def
	}
	return strings.TrimSpace(v)
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return def
}

func (l *loader) integer(name string, def, lo, hi int64) int64 {
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		l.fail(name, "must be an integer, got %q", v)
		return def
	}
	if n < lo || n > hi {
		l.fail(name, "must be between %d and %d, got %d", lo, hi, n)
		return def
	}
	return n
}

func (l *loader) boolean(name string, def bool) bool {
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	l.fail(name, "must be true, false, 1 or 0, got %q", v)
	return def
}

// duration accepts Go syntax ("90s") or a bare integer meaning seconds.
func (l *loader) duration(name string, def time.Duration) time.Duration {
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			l.fail(name, "must not be negative, got %q", v)
			return def
		}
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		l.fail(name, "must be a duration like 30s or a number of seconds, got %q", v)
		return def
	}
	return d
}

// list accepts a JSON array of strings or a comma-separated string.
func (l *loader) list(name string, def []string) []string {
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	if strings.HasPrefix(v, "[") {
		var out []string
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			l.fail(name, "must be a JSON array of strings or a comma-separated list")
			return def
		}
		return out
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (l *loader) httpURL(name, def string) string {
	v := l.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, "must be an absolute http(s) URL")
		return def
	}
	return strings.TrimRight(v, "/")
}

// ReadNames returns the sorted names of every variable Load reads.
func ReadNames() []string {
	l := newLoader(func(string) (string, bool) { return "", false })
	l.load()
	names := make([]string, 0, len(l.read))
	for n := range l.read {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Admin is the configuration of the commands that only talk to the
// database (tenant, key, migrate): they read nothing else, so an operator
// needs no storage credentials or server settings to run them.
type Admin struct {
	Environment string
	LogLevel    string
	LogFormat   string
	Database    Database
	// RatePrepDefault and RateCheckDefault are the limits a new key gets.
	RatePrepDefault  int
	RateCheckDefault int
}

// LoadAdmin reads and validates the variables of the admin commands only.
func LoadAdmin(lookup LookupFunc) (*Admin, error) {
	l := newLoader(lookup)
	c := l.loadBase()
	a := &Admin{Environment: c.Environment, LogLevel: c.LogLevel, LogFormat: c.LogFormat, Database: l.loadDatabase()}
	a.RatePrepDefault, a.RateCheckDefault = l.rateDefaults()
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	return a, nil
}

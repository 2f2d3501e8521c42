package main

import (
	"net/http"
	"net/http/pprof" //nolint:gosec // G108: mounted on the internal metrics listener only, never the public API
)

// mountPprof serves net/http/pprof under /debug/pprof/ on mux, which is the
// metrics listener's (METRICS_ADDR, internal only): profiles of a running
// process without a rebuild (docs/operations/index.md, "Profiling"). The
// public API is a separate fiber app and never routes here.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

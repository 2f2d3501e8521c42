package api

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// dependencyDown says whether err means that a dependency (PostgreSQL,
// object storage) could not be reached, is restarting, or dropped the
// connection, rather than a bug: such a request gets a 503 "try again"
// instead of a 500 (docs/design/api.md, "Errors"). The checks use only
// interfaces and standard errors, so the API names no driver: SQLSTATE
// classes 08 (connection exception), 57P (the server is shutting down or
// starting up), 53300 (too many connections), 40001 / 40P01 (a
// serialization failure or deadlock the caller may simply retry);
// drivers' "safe to retry" errors (pgx's closed connection); network
// errors (refused, reset, timeouts) and a connection closed mid-reply.
func dependencyDown(err error) bool {
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		switch code := st.SQLState(); {
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"),
			code == "53300", code == "40001", code == "40P01":
			return true
		}
	}
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// errDependencyDown is the client's view of dependencyDown: no internals.
const errDependencyDown = "Service temporarily unavailable, try again"

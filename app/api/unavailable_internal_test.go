package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
)

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "pg: " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

type retryErr bool

func (e retryErr) Error() string     { return "conn closed" }
func (e retryErr) SafeToRetry() bool { return bool(e) }

// Ensure only outages and transient aborts become 503: constraint and
// data errors, cancellations and plain bugs stay what they were.
func TestDependencyDown(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("load tree: %w", sqlStateErr("57P01")), true}, // admin shutdown
		{sqlStateErr("57P03"), true},                              // starting up
		{sqlStateErr("08006"), true},                              // connection failure
		{sqlStateErr("53300"), true},                              // too many connections
		{sqlStateErr("40P01"), true},                              // deadlock (after the store's retries)
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{retryErr(true), true},
		{sqlStateErr("23505"), false}, // unique violation
		{sqlStateErr("57014"), false}, // statement timeout / cancel
		{retryErr(false), false},
		{context.Canceled, false},
		{errors.New("nil pointer"), false},
	} {
		if got := dependencyDown(c.err); got != c.want {
			t.Errorf("dependencyDown(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

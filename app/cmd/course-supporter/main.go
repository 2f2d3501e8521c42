// Command course-supporter is the one binary of Course Supporter: the API
// server, the workers, migrations, the admin CLI and the container
// healthcheck. It is the only package that wires adapters together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // heavy-window time zones resolve even in images without tzdata

	"github.com/course-supporter/course-supporter/app/config"
)

// Set by -ldflags at build time.
var (
	version   = "dev"
	commit    = "unknown"
	buildDate = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, env{args: os.Args[1:], lookup: os.LookupEnv, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError marks command-line mistakes (exit 2, like config problems).
type usageError struct{ error }

// exitCode prints err and maps it to the documented exit codes:
// 0 ok, 1 error, 2 usage or configuration.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, err)
	var ps config.Problems
	var ue usageError
	if errors.As(err, &ps) || errors.As(err, &ue) {
		return 2
	}
	return 1
}

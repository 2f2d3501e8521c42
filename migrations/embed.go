// Package migrations embeds the numbered goose SQL files, so the binary
// carries its own schema and `course-supporter migrate` needs no files on
// the host.
package migrations

import "embed"

// FS holds every *.sql migration.
//
//go:embed *.sql
var FS embed.FS

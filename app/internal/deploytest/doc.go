// Package deploytest holds contract tests for the deployment files at the
// repository root and under infra/: the compose files are loaded with
// github.com/compose-spec/compose-go/v2, the loader Docker Compose itself
// uses, and the Netdata collector files are parsed as go.d parses them.
// The tests pin down what docs/operations/index.md promises (no published
// app or database port, healthchecks, log rotation, limits, hardening,
// pinned images, collectors aimed at the right containers), so a careless
// edit fails `make test` instead of a deploy.
//
// The running programs (nginx, certbot, netdata, the backup scripts) are
// exercised separately by scripts/test-infra.sh (`make test-infra`).
package deploytest

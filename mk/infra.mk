# Infrastructure tests: the compose files, nginx, certbot, netdata and the
# backup scripts, exercised with the real programs (see scripts/test-infra.sh).
# Installs the Debian packages it needs first (needs root, as in CI).

.PHONY: test-infra

test-infra: ## infra tests with real nginx, certbot+pebble, netdata, PostgreSQL backups
	@scripts/ci-infra-deps.sh
	@scripts/test-infra.sh

#!/usr/bin/env bash
# The smoke test against the local stack (make test-smoke, run by .ci/run and
# the CI workflow):
#   1. starts `make run` in the background (its own process group) on
#      loopback ports that do not clash with a developer's `make run`;
#   2. waits for /health to answer 200;
#   3. creates a smoke tenant (once) and a short-lived prep key with the admin
#      CLI, in the same environment as `make run`;
#   4. runs scripts/smoke-test.sh with the key in SMOKE_TEST_API_KEY;
#   5. revokes the key and stops the server (SIGTERM, graceful drain).
# DATABASE_URL / S3_ENDPOINT set by the caller are used as `make run` uses
# them (the GitHub workflow gives a PostgreSQL service container).
#
# Ends with "N passed, M failed" (the smoke checks plus this script's own
# steps); exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

port=${CS_SMOKE_PORT:-18000}
export HTTP_ADDR="127.0.0.1:$port"
export METRICS_ADDR="127.0.0.1:${CS_SMOKE_METRICS_PORT:-19090}"
export ENVIRONMENT=${ENVIRONMENT:-development}
# /health includes the job queue, which needs a live worker heartbeat.
export WORKER_IN_PROCESS=${WORKER_IN_PROCESS:-true}
base="http://127.0.0.1:$port"
log=$(mktemp /tmp/cs-smoke-run.XXXXXX.log)

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok   $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL $*"
}

server=""
key_id=""
stop_server() {
	[[ -n $server ]] || return 0
	kill -TERM -- "-$server" 2>/dev/null || true
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$server" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$server" 2>/dev/null; then
		kill -KILL -- "-$server" 2>/dev/null || true
		bad "make run did not stop within 30 s of SIGTERM"
	else
		ok "make run stopped on SIGTERM"
	fi
	wait "$server" 2>/dev/null || true
	server=""
}
trap 'stop_server >/dev/null' EXIT

if curl -s -o /dev/null --max-time 2 "$base/livez"; then
	echo "ci-smoke: something already listens on $base; set CS_SMOKE_PORT" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# 1. make run, in its own session so the whole tree can be signalled.
echo "ci-smoke: make run (log: $log)"
setsid make --no-print-directory run >"$log" 2>&1 </dev/null &
server=$!

# 2. Wait for /health (the first run may build the PostgreSQL chroot).
deadline=$(($(date +%s) + ${CS_SMOKE_START_TIMEOUT:-300}))
health=000
while :; do
	health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/health" || true)
	[[ $health == 200 ]] && break
	if ! kill -0 "$server" 2>/dev/null; then
		bad "make run exited before /health answered; last lines of its log:"
		tail -n 30 "$log" | sed 's/^/     | /'
		server=""
		echo "$passed passed, $failed failed"
		exit 1
	fi
	if (($(date +%s) > deadline)); then
		bad "/health did not answer 200 within ${CS_SMOKE_START_TIMEOUT:-300} s (last: $health $(curl -s --max-time 5 "$base/health" || true))"
		tail -n 30 "$log" | sed 's/^/     | /'
		stop_server
		echo "$passed passed, $failed failed"
		exit 1
	fi
	sleep 0.5
done
ok "make run: /health 200 after $(($(date +%s) - start)) s"

# 3. A key, with the environment make run used (scripts/run-dev.sh).
if [[ -z ${DATABASE_URL:-} ]]; then
	admin=$(scripts/local-pg.sh url dev 55433)
	export DATABASE_URL="${admin%/postgres?*}/course_supporter?sslmode=disable"
fi
if [[ -z ${S3_ENDPOINT:-} ]]; then
	eval "$(scripts/dev-s3.sh start)"
fi
cli=bin/course-supporter
tenant=smoke
# The CLI logs its configuration on stderr: keep that out of the report.
if ! "$cli" tenant list --json 2>/dev/null |
	python3 -c 'import json,sys; sys.exit(0 if any(t.get("name") == sys.argv[1] for t in json.load(sys.stdin) or []) else 1)' "$tenant"; then
	"$cli" tenant create --name "$tenant" >/dev/null 2>>"$log" || echo "ci-smoke: tenant create --name $tenant failed (see $log)"
fi
key_err=$(mktemp)
key_json=$("$cli" key create --tenant "$tenant" --scopes prep,check --env test \
	--label ci-smoke --expires-in 1h --json 2>"$key_err") || key_json=""
SMOKE_TEST_API_KEY=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' <<<"$key_json" 2>/dev/null) || SMOKE_TEST_API_KEY=""
key_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$key_json" 2>/dev/null) || key_id=""
if [[ -z $SMOKE_TEST_API_KEY ]]; then
	bad "key create --tenant $tenant --json gave no key: $(cat "$key_err")"
	stop_server
	echo "$passed passed, $failed failed"
	exit 1
fi
rm -f "$key_err"
ok "key created for tenant '$tenant' (id $key_id, expires in 1 h)"
export SMOKE_TEST_API_KEY

# 4. The smoke test; its own tally is folded into ours.
smoke_out=$(mktemp)
smoke_rc=0
scripts/smoke-test.sh "$base" | tee "$smoke_out" || smoke_rc=$?
tally=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$smoke_out" | tail -n 1 || true)
rm -f "$smoke_out"
if [[ $tally =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
	[[ $smoke_rc -eq 0 || ${BASH_REMATCH[2]} -gt 0 ]] || bad "smoke-test.sh exited $smoke_rc"
else
	bad "smoke-test.sh printed no tally (exit $smoke_rc)"
fi

# 5. Clean up: revoke the key, stop the server.
if [[ -n $key_id ]]; then
	if "$cli" key revoke --id "$key_id" >/dev/null 2>&1; then ok "key revoked"; else bad "key revoke --id $key_id failed"; fi
fi
stop_server
if [[ $failed -eq 0 ]]; then rm -f "$log"; else echo "ci-smoke: make run log kept in $log"; fi
echo "ci-smoke: finished in $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

#!/usr/bin/env bash
# Load test and fault drill (docs/performance.md, "Load and fault drill"):
# `serve` and a separate `worker` on their own PostgreSQL cluster (started
# here on a free port, removed afterwards) and versitygw, 200 keep-alive
# clients for 60 s over 5 tenants (tree reads, node creates and moves,
# small uploads, material reads), then checks in SQL and in the bucket
# listing that every acknowledged write is there and nothing dangles.
#
#   bench/load/run.sh            # the load test (make bench runs this)
#   bench/load/run.sh --faults   # + PostgreSQL restart at 15 s, S3 down 30-50 s
#   bench/load/run.sh --smoke    # 20 clients for 10 s (make bench-load-smoke)
#
#   LOAD_CLIENTS, LOAD_SECONDS   override the client count and duration
#   LOAD_KEEP=DIR                keep the serve, worker and versitygw logs there
#
# Tenants load1..load4 have limits out of reach (a 429 there fails the
# run); load5 has low limits (LOAD_PREP_LIMIT, LOAD_CHECK_LIMIT per minute)
# that its clients reach, and its 429s are checked against them. Exits 1
# when a check fails. Needs root (the PostgreSQL chroot) and versitygw.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

mode=load
case "${1:-}" in
"") ;;
--faults) mode=faults ;;
--smoke) mode=smoke ;;
*) echo "usage: $0 [--faults|--smoke]" >&2; exit 2 ;;
esac
if [[ $mode == smoke ]]; then
	clients=${LOAD_CLIENTS:-20} seconds=${LOAD_SECONDS:-10}
	prep_limit=${LOAD_PREP_LIMIT:-100} check_limit=${LOAD_CHECK_LIMIT:-60}
else
	clients=${LOAD_CLIENTS:-200} seconds=${LOAD_SECONDS:-60}
	prep_limit=${LOAD_PREP_LIMIT:-300} check_limit=${LOAD_CHECK_LIMIT:-1200}
fi

started=$(date +%s)
stamp() { echo "bench/load: $* ($(($(date +%s) - started)) s)"; }
work=$(mktemp -d /var/tmp/cs-bench-load.XXXXXX)
cluster="load-$$"
vgw_pid="$work/versitygw.pid"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [[ -f $vgw_pid ]]; then kill "$(cat "$vgw_pid")" 2>/dev/null || true; fi
	bench_cleanup
	scripts/local-pg.sh stop "$cluster" >/dev/null 2>&1 || true
	rm -rf "${PG_ROOT:?}/var/lib/cs-pg/$cluster" "${CS_CACHE_DIR:-/var/cache/course-supporter}/cluster-$cluster.lock" \
		"${CS_CACHE_DIR:-/var/cache/course-supporter}/pg_ctl-$cluster.log"
	if [[ -n ${LOAD_KEEP:-} ]]; then
		mkdir -p "$LOAD_KEEP"
		cp "$work"/*.log "$LOAD_KEEP"/ 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
bench_bin
go build -o "$work/load" ./bench/load
stamp built

# PostgreSQL: a cluster of its own, so the drill restarts nobody else's.
pg_port=$(free_port)
admin=$(scripts/local-pg.sh start "$cluster" "$pg_port")
scripts/local-pg.sh createdb "$cluster" "$pg_port" app
export DATABASE_URL="${admin%/postgres?*}/app?sslmode=disable"

# versitygw (posix backend, like scripts/dev-s3.sh), restartable for the drill.
s3_port=$(free_port)
vgw="$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")"
mkdir -p "$work/s3"
cat >"$work/s3-start.sh" <<-EOF
	#!/usr/bin/env bash
	"$vgw" --access bench --secret bench-secret-1234 --port 127.0.0.1:$s3_port posix "$work/s3" >>"$work/versitygw.log" 2>&1 </dev/null &
	echo \$! >"$vgw_pid"
	for _ in \$(seq 100); do curl -s -o /dev/null --max-time 1 http://127.0.0.1:$s3_port/ && exit 0; sleep 0.1; done
	exit 1
EOF
cat >"$work/s3-stop.sh" <<-EOF
	#!/usr/bin/env bash
	kill "\$(cat "$vgw_pid")"
	for _ in \$(seq 100); do curl -s -o /dev/null --max-time 1 http://127.0.0.1:$s3_port/ || exit 0; sleep 0.1; done
	exit 1
EOF
chmod +x "$work/s3-start.sh" "$work/s3-stop.sh"
"$work/s3-start.sh"
curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user bench:bench-secret-1234 \
	-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	"http://127.0.0.1:$s3_port/bench" >/dev/null
export S3_ENDPOINT="http://127.0.0.1:$s3_port" S3_ACCESS_KEY=bench S3_SECRET_KEY=bench-secret-1234 S3_BUCKET=bench

# The app: production-like settings, with the worker's periods short enough
# for the drill's checks (a stuck job is seen within two reaper periods),
# and 16 upload slots per process and per tenant: a tenant here has 40
# clients, and the default share (2, docs/operations/limits.md) would
# refuse most of their uploads with 503 — the share doing its job, not
# what this test measures.
export ENVIRONMENT=testing LOG_LEVEL=warn LOG_FORMAT=json METRICS_ADDR='' \
	WORKER_IN_PROCESS=false UPLOAD_MAX_CONCURRENT=16 UPLOAD_MAX_CONCURRENT_PER_TENANT=16 DB_HEALTH_CHECK_PERIOD=1s \
	WORKER_INGEST_MAX_JOBS=4 WORKER_RETRY_BASE_DELAY=2s WORKER_MAX_TRIES=5 \
	WORKER_HEARTBEAT_INTERVAL=2s WORKER_STALE_AFTER=10s JOB_REAPER_INTERVAL=5s \
	WORKER_TMP_DIR="$work/tmp" SHUTDOWN_TIMEOUT=5s WORKER_SHUTDOWN_TIMEOUT=5s
"$bin" migrate up >/dev/null
keys="$work/keys"
for i in 1 2 3 4 5; do
	"$bin" tenant create --name "load$i" >/dev/null
	p=100000000 c=100000000
	[[ $i == 5 ]] && p=$prep_limit c=$check_limit
	k=$("$bin" key create --tenant "load$i" --scopes prep,check --rate-prep "$p" --rate-check "$c" --json 2>/dev/null |
		sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
	[[ -n $k ]] || { echo "load: could not create a key" >&2; exit 1; }
	echo "load$i $k $p $c" >>"$keys"
done
stamp "PostgreSQL, versitygw, tenants ready"
bench_serve "$work/serve.log"
METRICS_ADDR="127.0.0.1:$(free_port)" "$bin" worker >"$work/worker.log" 2>&1 &
worker=$!
bench_pids+=("$worker")

args=(-url "$base" -keys "$keys" -dsn "$DATABASE_URL" -c "$clients" -d "${seconds}s"
	-s3-endpoint "$S3_ENDPOINT" -s3-bucket "$S3_BUCKET" -s3-access-key "$S3_ACCESS_KEY" -s3-secret-key "$S3_SECRET_KEY"
	-settle 120s)
if [[ $mode == faults ]]; then
	args+=(-reaper 5s -faults -pg-restart-cmd "scripts/local-pg.sh restart $cluster"
		-s3-stop-cmd "$work/s3-stop.sh" -s3-start-cmd "$work/s3-start.sh")
fi
rc=0
"$work/load" "${args[@]}" || rc=$?
for p in serve worker; do
	if grep -q '"level":"ERROR"' "$work/$p.log"; then
		echo "$p logged $(grep -c '"level":"ERROR"' "$work/$p.log") errors; first ones:"
		grep '"level":"ERROR"' "$work/$p.log" | cut -c1-400 | sort | uniq -c | sort -rn | head -5
	fi
done
kill -0 "$app" 2>/dev/null || { echo "FAIL: serve is not running any more"; rc=1; }
kill -0 "$worker" 2>/dev/null || { echo "FAIL: the worker is not running any more"; rc=1; }
echo "bench/load ($mode): $(($(date +%s) - started)) s in all; machine load now $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"

# Shared setup of the bench/*/run.sh scripts (sourced, not run): the app
# binary, a throw-away database on the dev PostgreSQL cluster, versitygw,
# and the app itself on free loopback ports. Needs what `make run` needs
# (root for the PostgreSQL chroot of scripts/local-pg.sh, versitygw).
# shellcheck shell=bash

PG_ROOT="${CS_CACHE_DIR:-/var/cache/course-supporter}/rootfs"
bench_pids=()
bench_dbs=()
bench_dirs=()

bench_cleanup() {
	local p d
	for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for d in "${bench_dbs[@]}"; do scripts/local-pg.sh dropdb dev 55433 "$d" >/dev/null 2>&1 || true; done
	for d in "${bench_dirs[@]}"; do rm -rf "$d"; done
}

# free_port prints a free loopback TCP port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# bench_bin sets $bin: BENCH_BIN, or a fresh `make build`.
bench_bin() {
	if [[ -n "${BENCH_BIN:-}" ]]; then
		bin=$BENCH_BIN
	else
		make --no-print-directory build >/dev/null
		bin=bin/course-supporter
	fi
}

# bench_wrk succeeds when wrk (Debian's package, a C load client as cheap
# as pgbench's) can be run, installing it first when root may.
bench_wrk() {
	command -v wrk >/dev/null && return 0
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "installing wrk (apt-get)" >&2
		apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 && apt-get install -y --no-install-recommends wrk >/dev/null 2>&1; }
	fi
	command -v wrk >/dev/null
}

# bench_db NAME: a fresh database on the dev cluster; exports DATABASE_URL
# and sets $pg_port_admin (the admin DSN).
bench_db() {
	local admin
	admin=$(scripts/local-pg.sh start dev 55433)
	scripts/local-pg.sh dropdb dev 55433 "$1" >/dev/null 2>&1 || true
	scripts/local-pg.sh createdb dev 55433 "$1"
	bench_dbs+=("$1")
	export DATABASE_URL="${admin%/postgres?*}/$1?sslmode=disable"
}

# pg_run CMD...: runs a PostgreSQL client program (psql, pgbench) from the
# chroot, as the postgres user, against the dev cluster over TCP.
pg_run() {
	local ids
	ids=$(awk -F: '$1=="postgres"{print $3":"$4}' "$PG_ROOT/etc/passwd")
	chroot --userspec="$ids" "$PG_ROOT" env HOME=/tmp PGPASSWORD=postgres PGHOST=127.0.0.1 PGPORT=55433 PGUSER=postgres "$@"
}

# bench_s3 DIR: versitygw on DIR with a bucket "bench"; exports S3_*.
bench_s3() {
	local vgw port
	vgw="$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")"
	port=$(free_port)
	mkdir -p "$1"
	"$vgw" --access bench --secret bench-secret-1234 --port "127.0.0.1:$port" posix "$1" >"$1.log" 2>&1 &
	bench_pids+=($!)
	vgwpid=$! # for callers that measure its CPU
	export vgwpid
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user bench:bench-secret-1234 \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$port/bench" >/dev/null
	export S3_ENDPOINT="http://127.0.0.1:$port" S3_ACCESS_KEY=bench S3_SECRET_KEY=bench-secret-1234 S3_BUCKET=bench
}

# bench_key: tenant "bench" and a prep+check key with the given check
# limit; sets $key.
bench_key() {
	"$bin" tenant create --name bench >/dev/null 2>&1 || true
	key=$("$bin" key create --tenant bench --scopes prep,check --rate-check "${1:-300}" --rate-prep "${1:-60}" --json 2>/dev/null |
		sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
	[[ -n "$key" ]] || { echo "bench: could not create an API key" >&2; return 1; }
}

# bench_serve LOG [ENV=VALUE...]: starts `serve` on a free port with extra
# environment; sets $app (pid) and $base (URL).
bench_serve() {
	local log=$1 port
	shift
	port=$(free_port)
	env "$@" HTTP_ADDR="127.0.0.1:$port" "$bin" serve >"$log" 2>&1 &
	app=$!
	bench_pids+=("$app")
	base="http://127.0.0.1:$port"
	for _ in $(seq 200); do curl -sf -o /dev/null "$base/livez" && return 0; sleep 0.05; done
	echo "bench: serve did not start:" >&2
	tail -5 "$log" >&2
	return 1
}

# cpu_ticks PID: user+system CPU of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

#!/usr/bin/env bash
# `make run`: a local database and object store, migrations, a development
# API key, and the API on :8000. Anything already configured in the
# environment (DATABASE_URL, S3_ENDPOINT) is used instead of the local servers.
#
# On a fresh Debian machine it installs what it needs itself (as root, with
# apt-get, without asking): debootstrap and curl; then, in parallel, builds
# the PostgreSQL chroot (scripts/local-pg.sh), installs versitygw with
# `go install` and downloads the modules and builds the binary. One progress
# line per step; each step's output goes to .cache/dev/logs/<step>.log and
# its last lines are shown when it fails. A failed start stops the servers
# it started (a PostgreSQL or versitygw that was already running stays).
#
# Environment: LOG_LEVEL (default info; debug shows River's own lines too),
# HTTP_ADDR (:8000), CS_DEV_PG_PORT (55433), CS_CACHE_DIR (chroot and S3 data, default
# /var/cache/course-supporter), GOBIN (where versitygw is installed).
# Afterwards bin/cs runs the admin CLI with the same environment.
set -euo pipefail
cd "$(dirname "$0")/.."

export ENVIRONMENT="${ENVIRONMENT:-development}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
export HTTP_ADDR="${HTTP_ADDR:-:8000}"
export WORKER_IN_PROCESS="${WORKER_IN_PROCESS:-true}"
export LLM_BUILTIN_ENABLED="${LLM_BUILTIN_ENABLED:-true}" # offline builtin-outline model (docs/design/llm.md)

VERSITYGW_VERSION=v1.8.0
PG_NAME=dev
PG_PORT=${CS_DEV_PG_PORT:-55433}
dev=.cache/dev
logs=$dev/logs
mkdir -p "$logs"
chmod 700 "$dev"
t0=$SECONDS

say() { printf 'make run: %s\n' "$*"; }
die() {
	printf 'make run: %s\n' "$*" >&2
	exit 1
}
# show_log STEP: the end of a failed step's log.
show_log() {
	printf '  ---- last lines of %s\n' "$logs/$1.log" >&2
	tail -n 15 "$logs/$1.log" | sed 's/^/  | /' >&2
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- cleanup on failure: stop only what this run started -----------------------
pg_was_up=true s3_was_up=true ok=false
cleanup() {
	$ok && return 0
	if ((${#pids[@]})); then
		say "waiting for the other steps to stop before cleaning up"
		wait || true
	fi
	if ! $pg_was_up && [[ -f $dev/pg.started ]]; then
		say "stopping the PostgreSQL this run started"
		scripts/local-pg.sh stop "$PG_NAME" >/dev/null 2>&1 || true
	fi
	if ! $s3_was_up; then
		scripts/dev-s3.sh stop >/dev/null 2>&1 || true
	fi
}
pids=()
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. system prerequisites (sequential: apt holds a lock) --------------------------
command -v go >/dev/null || die "Go is not installed: install Go 1.26 from https://go.dev/dl and run make run again"
gobin=${GOBIN:-$(go env GOPATH)/bin}
export VERSITYGW=${VERSITYGW:-$(command -v versitygw || echo "$gobin/versitygw")}

need=()
command -v curl >/dev/null || need+=(curl ca-certificates)
if [[ -z ${DATABASE_URL:-} && ! -f ${CS_CACHE_DIR:-/var/cache/course-supporter}/rootfs/.complete ]]; then
	command -v debootstrap >/dev/null || need+=(debootstrap)
fi
if ((${#need[@]})); then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
		die "missing: ${need[*]}. Install them (Debian: sudo apt-get install ${need[*]}), or set DATABASE_URL and S3_ENDPOINT to your own servers"
	fi
	s=$SECONDS
	say "installing ${need[*]} with apt-get (running as root on Debian)"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >"$logs/apt.log" 2>&1; then
		# A fresh machine may have no package lists yet.
		if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >>"$logs/apt.log" 2>&1; then
			show_log apt
			die "apt-get could not install ${need[*]}"
		fi
	fi
	say "✓ apt packages                $((SECONDS - s)) s"
fi

# --- 2. in parallel: database, object store, binary ---------------------------------------
declare -A step_of=() started=()
# spawn NAME FUNCTION: run FUNCTION in the background, output to its log.
spawn() {
	"$2" >"$logs/$1.log" 2>&1 </dev/null &
	pids+=($!)
	step_of[$!]=$1
	started[$1]=$SECONDS
}

step_postgres() {
	scripts/local-pg.sh start "$PG_NAME" "$PG_PORT" >"$dev/pg.url"
	$pg_was_up || touch "$dev/pg.started"
	scripts/local-pg.sh createdb "$PG_NAME" "$PG_PORT" course_supporter
}
step_s3() {
	if [[ ! -x $VERSITYGW ]]; then
		echo "installing versitygw $VERSITYGW_VERSION into $gobin"
		GOBIN=$gobin GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
	fi
	scripts/dev-s3.sh start >"$dev/s3.env"
}
step_build() {
	# go build fetches only the binary's modules (about 360 of 450 MB on a
	# fresh machine), interleaved with compiling; `make test` fetches the rest.
	make --no-print-directory build
}

rm -f "$dev/pg.started"
if [[ -z ${DATABASE_URL:-} ]]; then
	listening "$PG_PORT" || pg_was_up=false
	$pg_was_up || [[ -f ${CS_CACHE_DIR:-/var/cache/course-supporter}/rootfs/.complete ]] ||
		say "building the PostgreSQL 17 chroot (once per machine, about a minute)"
	spawn postgres step_postgres
fi
if [[ -z ${S3_ENDPOINT:-} ]]; then
	s3_addr=${CS_S3_ADDR:-127.0.0.1:7070}
	listening "${s3_addr##*:}" || s3_was_up=false
	[[ -x $VERSITYGW ]] || say "installing versitygw $VERSITYGW_VERSION (go install, once)"
	spawn s3 step_s3
fi
spawn build step_build

failed=()
while ((${#pids[@]})); do
	pid=""
	rc=0
	wait -n -p pid "${pids[@]}" || rc=$?
	[[ -n $pid ]] || break
	name=${step_of[$pid]}
	rest=()
	for p in "${pids[@]}"; do [[ $p == "$pid" ]] || rest+=("$p"); done
	pids=("${rest[@]}")
	if ((rc == 0)); then
		say "$(printf '✓ %-26s %d s' "$name" $((SECONDS - started[$name])))"
	else
		say "✗ $name failed (exit $rc)"
		show_log "$name"
		failed+=("$name")
	fi
done
((${#failed[@]} == 0)) || die "could not start: ${failed[*]} (logs in $logs/)"

if [[ -z ${DATABASE_URL:-} ]]; then
	admin=$(<"$dev/pg.url")
	export DATABASE_URL="${admin%/postgres?*}/course_supporter?sslmode=disable"
fi
if [[ -z ${S3_ENDPOINT:-} ]]; then
	# shellcheck source=/dev/null # written by scripts/dev-s3.sh start
	source "$dev/s3.env"
	[[ -n ${S3_ENDPOINT:-} ]] || die "scripts/dev-s3.sh printed no S3_ENDPOINT (see $logs/s3.log)"
	export S3_PUBLIC_ENDPOINT="$S3_ENDPOINT"
fi

# The environment of bin/cs (the admin CLI against this database).
(
	umask 077
	{
		printf 'export DATABASE_URL=%q\n' "$DATABASE_URL"
		for v in S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_BUCKET S3_REGION; do
			[[ -n ${!v:-} ]] && printf 'export %s=%q\n' "$v" "${!v}"
		done
		printf 'export ENVIRONMENT=%q\n' "$ENVIRONMENT"
	} >"$dev/env"
)
ln -sfn ../scripts/cs bin/cs

# --- 3. migrations and the key ----------------------------------------------------------------
bin=bin/course-supporter
s=$SECONDS
"$bin" migrate up >"$logs/migrate.log" 2>&1 || { show_log migrate; die "migrations failed"; }
say "$(printf '✓ %-26s %d s' migrations $((SECONDS - s)))"
"$bin" dev-bootstrap --key-file "$dev/api-key" || die "could not create a development API key"

port="${HTTP_ADDR##*:}"
ok=true
say "ready after $((SECONDS - t0)) s; starting the API on http://localhost:$port (health /health, docs /docs); LOG_LEVEL=$LOG_LEVEL"
say "admin CLI in this environment: bin/cs tenant list"
echo
exec "$bin" serve

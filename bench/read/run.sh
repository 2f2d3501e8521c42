#!/usr/bin/env bash
# Read benchmark: GET /api/v1/nodes/{id}/tree (50 nodes, ~21 KB of JSON)
# through the API with the rate limiter ON, against pgbench running the same
# SQL (bench/read/tree.sql, prepared, the same client count) in the same
# run; plus the limiter's cost (the same endpoint with it OFF) and the size
# of its table before and after.
#
#   bench/read/run.sh                 (DURATION=10 seconds per phase)
#   DURATION=300 PHASES=soak bench/read/run.sh      # the 5-minute limiter run (table size every 30 s)
#   PROFILE=cpu.pprof bench/read/run.sh               # + the app's CPU profile at 16 connections (PROFILE_CONNS=64: at 64)
#
# It also prints the app's CPU per request (user+system of the limiter-on
# serve process over the load, /proc), which the machine's load changes
# far less than req/s.
#   DURATION=5 LIMITER_ROUNDS=6 PHASES=limiter bench/read/run.sh  # on/off, median of 6 pairs
#   LIMITER_AA=1 DURATION=5 LIMITER_ROUNDS=4 PHASES=limiter bench/read/run.sh  # A/A control: both limiters off
#   LOAD_CLIENT=httpload bench/read/run.sh            # the Go client instead of wrk (the default)
#
# Prints human-readable lines and "RESULT name value unit target" lines that
# bench/all.sh (make bench) collects. Targets: tree/pgbench >= 0.5 at 16 and
# 64 connections; limiter on/off throughput >= 0.85 at 16 connections; the
# limiter's added p50 (1 connection) <= 0.2 ms; its table constant in size.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap bench_cleanup EXIT

dur="${DURATION:-10}"
phases="${PHASES:-all}"
work=$(mktemp -d /var/tmp/cs-bench-read.XXXXXX)
bench_dirs+=("$work")
bench_bin
go build -o "$work/httpload" ./bench/httpload
# The load client: wrk by default (C, like pgbench's, so the ratio is not
# a measure of client cost on a machine both share), bench/httpload (Go,
# fasthttp) with LOAD_CLIENT=httpload or where wrk cannot be had. Both
# print the same JSON line; wrk gets one unmeasured second of warm-up,
# as httpload does by itself.
client="${LOAD_CLIENT:-wrk}"
if [[ "$client" == wrk ]] && ! bench_wrk; then
	echo "wrk not available: the load client is bench/httpload (read the ratio with that in mind)" >&2
	client=httpload
fi
bench_db "bench_read_$$"
bench_s3 "$work/s3"
export ENVIRONMENT=testing LOG_LEVEL=warn METRICS_ADDR=''
"$bin" migrate up >/dev/null
bench_key 100000000 # the limiter runs, but never says no
# The tree: a root, 7 chapters, 6 lessons each (50 nodes), written through
# a server of its own, so the two measured servers start with the same
# history: fresh connections, planned after ANALYZE. (Written through the
# "off" server, the servers' PostgreSQL connections differed in cost per
# tree query by 1.4-1.7x, and an A/A run — both limiters off — showed the
# same "on/off" gap as the real pair: docs/performance.md.)
bench_serve "$work/build.log" RATE_LIMIT_ENABLED=false
builder=$base builder_pid=$app
post() { curl -sf -H "X-API-Key: $key" -H 'Content-Type: application/json' -d "$2" "$builder$1" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p'; }
desc='A lesson of the benchmark course: what it covers, what to read first, and what to practise.'
root=$(post /api/v1/nodes "{\"title\":\"Benchmark course\",\"description\":\"$desc\"}")
for c in $(seq 7); do
	ch=$(post "/api/v1/nodes/$root/children" "{\"title\":\"Chapter $c: a chapter title of ordinary length\",\"description\":\"$desc\"}")
	for l in $(seq 6); do
		post "/api/v1/nodes/$ch/children" "{\"title\":\"Lesson $c.$l: a lesson title of ordinary length\",\"description\":\"$desc\"}" >/dev/null
	done
done
tenant=$(pg_run psql -d "bench_read_$$" -Atc "SELECT id FROM tenants WHERE name = 'bench'")
kill "$builder_pid"
wait "$builder_pid" 2>/dev/null || true
pg_run psql -q -d "bench_read_$$" -c 'ANALYZE'
# LIMITER_AA=1: the "on" server runs with its limiter off too, an A/A
# control that shows how far apart two identical servers measure.
on_limiter=true
[[ "${LIMITER_AA:-}" == 1 ]] && on_limiter=false && echo "LIMITER_AA=1: both servers run with the limiter off (control)"
mport=$(free_port)
# servers: a limiter-on and a limiter-off serve, started together.
servers() {
	bench_serve "$work/on.log" RATE_LIMIT_ENABLED=$on_limiter ${PROFILE:+METRICS_ADDR=127.0.0.1:$mport}
	on=$base on_pid=$app
	bench_serve "$work/off.log" RATE_LIMIT_ENABLED=false
	off=$base off_pid=$app
}
servers
url="/api/v1/nodes/$root/tree"
bytes=$(curl -sf -H "X-API-Key: $key" "$on$url" | wc -c)
echo "tree: 50 nodes, $bytes bytes of JSON; $dur s per phase; client $client; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# busy: the machine's busy CPU ticks (user, nice, system, irq, softirq).
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# With wrk, load also leaves the machine's busy ticks over the measured run
# in $work/busy and the client's own CPU seconds in $work/client, which the
# CPU budget per request below splits up.
# With PID, the app's CPU ticks over the measured run go to $work/app.
load() { # BASE CONNS [SECONDS [PID]] -> JSON line
	local d=${3:-$dur}
	if [[ "$client" == wrk ]]; then
		local t=$(($2 < 2 ? $2 : 2)) b0 TIMEFORMAT='%3U %3S'
		BENCH_KEY=$key wrk -t "$t" -c "$2" -d 1s -s bench/read/wrk.lua "$1$url" >/dev/null
		b0=$(busy)
		[[ -z "${4:-}" ]] || cpu_ticks "$4" >"$work/app0"
		{ time BENCH_KEY=$key wrk -t "$t" -c "$2" -d "${d}s" -s bench/read/wrk.lua "$1$url" >"$work/wrk.out"; } 2>"$work/client"
		echo $(($(busy) - b0)) >"$work/busy"
		[[ -z "${4:-}" ]] || echo $(($(cpu_ticks "$4") - $(cat "$work/app0"))) >"$work/app"
		grep '^{' "$work/wrk.out"
	else
		[[ -z "${4:-}" ]] || cpu_ticks "$4" >"$work/app0"
		"$work/httpload" -url "$1$url" -H "X-API-Key: $key" -c "$2" -d "${d}s"
		# httpload's warm-up second is inside this window.
		[[ -z "${4:-}" ]] || echo $(($(cpu_ticks "$4") - $(cat "$work/app0"))) >"$work/app"
	fi
}
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
pgb() { # CONNS -> TPS (fails, printing pgbench's output, when it has none)
	local out tps
	cp bench/read/tree.sql "$PG_ROOT/tmp/cs-bench-tree-$$.sql"
	local b0 TIMEFORMAT='%3U %3S'
	b0=$(busy)
	{ time pg_run /usr/lib/postgresql/17/bin/pgbench -n -M prepared -c "$1" -j 2 -T "$dur" \
		-D "root=$root" -D "tenant=$tenant" -f "/tmp/cs-bench-tree-$$.sql" "bench_read_$$" >"$work/pgb.out" 2>&1 || true; } 2>"$work/pgb.client"
	echo $(($(busy) - b0)) >"$work/pgb.busy"
	out=$(cat "$work/pgb.out")
	rm -f "$PG_ROOT/tmp/cs-bench-tree-$$.sql"
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
	if [[ -z "$tps" ]]; then
		printf 'pgbench -c %s failed:\n%s\n' "$1" "$(tail -5 <<<"$out")" >&2
		return 1
	fi
	echo "$tps"
}
table_size() { pg_run psql -d "bench_read_$$" -Atc "SELECT pg_relation_size('rate_limit_windows')"; }
result() { printf 'RESULT %s %s %s %s\n' "$@"; }

curl -sf -o /dev/null -H "X-API-Key: $key" "$on$url" # the bucket's row exists
# The same warm-up on both servers (connections, plans, caches).
warm() {
	load "$on" 16 2 >/dev/null
	load "$off" 16 2 >/dev/null
}
warm
size0=$(table_size)
# PHASES=soak: the limiter's table over a long run. DURATION seconds of
# tree reads at 16 connections through the limiter-on server only, its
# table's size (and the bucket's row count) read every 30 s.
if [[ "$phases" == soak ]]; then
	tot() { pg_run psql -d "bench_read_$$" -Atc "SELECT pg_total_relation_size('rate_limit_windows') || ' ' || count(*) FROM rate_limit_windows"; }
	echo "soak: $dur s at 16 connections, limiter on; table: relation bytes, total bytes, rows"
	load "$on" 16 >"$work/soak.json" &
	soak=$!
	max=$size0 start=$(date +%s)
	while kill -0 "$soak" 2>/dev/null; do
		s=$(table_size) t=$(tot)
		((s > max)) && max=$s
		echo "  t=$(($(date +%s) - start)) s: $s $t"
		sleep 30 & wait $! || true
	done
	wait "$soak"
	api=$(cat "$work/soak.json")
	size1=$(table_size)
	echo "soak: $(field rps "$api") req/s, $(field requests "$api") requests; table $size0 bytes before, $max at most, $size1 after"
	result read.limiter_soak_seconds "$dur" s ""
	result read.limiter_soak_table_max "$max" bytes ""
	result read.limiter_soak_table_growth "$((size1 - size0))" bytes "==0"
	exit 0
fi
if [[ "$phases" == all ]]; then
	for c in 16 64; do
		if [[ -n "${PROFILE:-}" && "$c" == "${PROFILE_CONNS:-16}" ]]; then
			curl -sf -o "$PROFILE" "http://127.0.0.1:$mport/debug/pprof/profile?seconds=$((dur > 2 ? dur - 1 : 1))" &
			prof=$!
		fi
		api=$(load "$on" "$c" "$dur" "$on_pid")
		ticks=$(cat "$work/app")
		if [[ -n "${prof:-}" ]]; then wait "$prof" || echo "  no profile" >&2; prof=""; fi
		tps=$(pgb "$c")
		rps=$(field rps "$api")
		ratio=$(awk -v a="$rps" -v b="$tps" 'BEGIN{printf "%.3f", a / b}')
		cpu_us=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$(field requests "$api")" 'BEGIN{printf "%.0f", t * 1e6 / hz / n}')
		echo "c=$c: tree API (limiter on) $rps req/s, p50 $(field p50_ms "$api") ms, p99 $(field p99_ms "$api") ms, app CPU $cpu_us us/request; pgbench $tps TPS; ratio $ratio"
		bad=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["non2xx"] if "non2xx" in r else r["requests"] - r["status"].get("200", 0), "+", r["errors"])' "$api" | awk '{print $1 + $3}')
		[[ "$bad" == 0 ]] || echo "  $bad requests failed or answered other than 200: $api"
		if [[ "$client" == wrk ]]; then
			# Where the machine's CPU goes per request (µs): all busy ticks over
			# the run / requests, split into the app (its /proc ticks), the
			# client (wrk's own rusage) and the rest (PostgreSQL, the kernel's
			# loopback, everything else); the same for a pgbench transaction.
			budget=$(awk -v hz="$(getconf CLK_TCK)" -v n="$(field requests "$api")" -v tps="$tps" -v d="$dur" \
				-v ab="$(<"$work/busy")" -v at="$ticks" -v pb="$(<"$work/pgb.busy")" -v ac="$(<"$work/client")" -v pc="$(<"$work/pgb.client")" '
				BEGIN { split(ac, a, " "); split(pc, p, " "); m = tps * d
					printf "%.0f %.0f %.0f %.0f %.0f", ab * 1e6 / hz / n, at * 1e6 / hz / n, (a[1] + a[2]) * 1e6 / n,
						pb * 1e6 / hz / m, (p[1] + p[2]) * 1e6 / m }')
			read -r m_api m_app m_cli m_pgb m_pgbcli <<<"$budget"
			echo "  CPU per request (us): API: machine $m_api = app $m_app + wrk $m_cli + PostgreSQL/kernel/rest $((m_api - m_app - m_cli)); pgbench: machine $m_pgb = pgbench $m_pgbcli + PostgreSQL/kernel/rest $((m_pgb - m_pgbcli))"
			result "read.machine_cpu_per_request.c$c" "$m_api" us ""
			result "read.client_cpu_per_request.c$c" "$m_cli" us ""
			result "read.machine_cpu_per_pgbench_tx.c$c" "$m_pgb" us ""
		fi
		result "read.tree_vs_pgbench.c$c" "$ratio" x ">=0.5"
		result "read.tree_rps.c$c" "$rps" req/s ""
		result "read.app_cpu_per_request.c$c" "$cpu_us" us ""
		result "read.pgbench_tps.c$c" "$tps" tps ""
	done
fi
# The limiter's cost: throughput at 16 connections and p50 at 1, on vs off.
# LIMITER_ROUNDS=n repeats the c=16 pair n times, alternating which side
# goes first, and takes the median ratio: on a shared machine the load
# drifts between two phases more than the limiter costs.
# The app's CPU per request (on / off) does not depend on the load.
# The pair runs on two fresh servers: a server that has been through the
# c=16/64 phases measures slower afterwards whichever limiter it has (an
# A/A run showed it: docs/performance.md).
if [[ "$phases" == all ]]; then
	kill "$on_pid" "$off_pid"
	wait "$on_pid" "$off_pid" 2>/dev/null || true
	servers
	curl -sf -o /dev/null -H "X-API-Key: $key" "$on$url"
	warm
fi
ratios=() cpu_on=0 cpu_off=0 req_on=0 req_off=0
on_phase() {
	on16=$(load "$on" 16 "$dur" "$on_pid")
	cpu_on=$((cpu_on + $(cat "$work/app"))) req_on=$((req_on + $(field requests "$on16")))
}
off_phase() {
	off16=$(load "$off" 16 "$dur" "$off_pid")
	cpu_off=$((cpu_off + $(cat "$work/app"))) req_off=$((req_off + $(field requests "$off16")))
}
for r in $(seq "${LIMITER_ROUNDS:-1}"); do
	if ((r % 2)); then
		off_phase
		on_phase
	else
		on_phase
		off_phase
	fi
	ratios+=("$(awk -v a="$(field rps "$on16")" -v b="$(field rps "$off16")" 'BEGIN{printf "%.3f", a / b}')")
done
cpu=$(awk -v a="$cpu_on" -v b="$req_on" -v c="$cpu_off" -v d="$req_off" -v hz="$(getconf CLK_TCK)" \
	'BEGIN{printf "%.4f %.4f %.3f", a * 1000 / hz / b, c * 1000 / hz / d, (a / b) / (c / d)}')
off1=$(load "$off" 1)
on1=$(load "$on" 1)
tput=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : sprintf("%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2)}')
((${#ratios[@]} == 1)) || echo "limiter: c=16 on/off per round: ${ratios[*]}"
added=$(awk -v a="$(field p50_ms "$on1")" -v b="$(field p50_ms "$off1")" 'BEGIN{printf "%.3f", a - b}')
size1=$(table_size)
echo "limiter: c=16 on $(field rps "$on16") / off $(field rps "$off16") req/s = $tput; c=1 p50 on $(field p50_ms "$on1") / off $(field p50_ms "$off1") ms, added $added ms"
echo "limiter table: $size0 bytes before, $size1 bytes after"
read -r cpu_on_ms cpu_off_ms cpu_ratio <<<"$cpu"
echo "limiter: app CPU per request at c=16: on $cpu_on_ms / off $cpu_off_ms ms = $cpu_ratio"
result read.limiter_cpu_on_off.c16 "$cpu_ratio" x ""
result read.limiter_on_off.c16 "$tput" x ">=0.85"
result read.limiter_added_p50.c1 "$added" ms "<=0.2"
result read.limiter_table_growth "$((size1 - size0))" bytes "==0"

#!/usr/bin/env bash
# Footprint: binary size, time from exec to the first 200 of /livez and of
# /health (database, bucket and an in-process worker all ok), and resident
# memory once healthy. Prints "RESULT" lines for make bench.
#
#   bench/footprint/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap bench_cleanup EXIT

work=$(mktemp -d /var/tmp/cs-bench-fp.XXXXXX)
bench_dirs+=("$work")
bench_bin
bench_db "bench_fp_$$"
bench_s3 "$work/s3"
export ENVIRONMENT=testing LOG_LEVEL=warn METRICS_ADDR='' WORKER_IN_PROCESS=true
"$bin" migrate up >/dev/null
port=$(free_port)
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
HTTP_ADDR="127.0.0.1:$port" "$bin" serve >"$work/app.log" 2>&1 &
app=$!
bench_pids+=("$app")
until curl -sf -o /dev/null "http://127.0.0.1:$port/livez"; do sleep 0.002; done
t_live=$(($(ms) - t0))
until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.002; done
t_health=$(($(ms) - t0))
sleep 1
rss=$(awk '/VmRSS/{printf "%.1f", $2 / 1024}' "/proc/$app/status")
size=$(stat -c %s "$bin" | awk '{printf "%.1f", $1 / 1048576}')
echo "binary $size MiB; exec -> /livez $t_live ms, -> /health $t_health ms; RSS after start $rss MiB"
printf 'RESULT footprint.binary %s MiB <=34\n' "$size"
printf 'RESULT footprint.rss_after_start %s MiB <=34\n' "$rss"
printf 'RESULT footprint.exec_to_livez %s ms <=65\n' "$t_live"
printf 'RESULT footprint.exec_to_health %s ms <=97\n' "$t_health"

#!/usr/bin/env bash
# make bench: every benchmark, BENCH_RUNS times (default 3), then one table
# with min / median / max per figure. Each benchmark prints
# "RESULT name value unit target" lines; see docs/performance.md.
#
#   make bench                       # or: bench/all.sh
#   BENCH_RUNS=1 BENCH_ONLY="read upload" bench/all.sh
#
#   BENCH_UPLOAD_MIB   upload size (default 1024)
#   BENCH_READ_SECONDS seconds per phase of bench/read (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${BENCH_RUNS:-3}"
only="${BENCH_ONLY:-footprint auth read upload ingest search load}"
out=$(mktemp /var/tmp/cs-bench-all.XXXXXX)
trap 'rm -f "$out"' EXIT
make --no-print-directory build >/dev/null
export BENCH_BIN="$PWD/bin/course-supporter"
start=$(date +%s)
echo "make bench: $runs run(s) of: $only; load $(cut -d' ' -f1-3 /proc/loadavg)"

# go test benchmarks: "RESULT" lines from their ns/op.
gobench() { # PKG PATTERN BENCHTIME PREFIX
	go test "$1" -run '^$' -bench "$2" -benchtime "$3" -count "$runs" 2>&1 |
		awk -v p="$4" '/^Benchmark/ { n = $1; sub(/^Benchmark/, "", n); sub(/-[0-9]+$/, "", n); gsub("/", ".", n)
			for (i = 1; i < NF; i++) if ($(i + 1) == "ns/op") printf "RESULT %s.%s %.3f ms \n", p, n, $i / 1e6 }'
}

# A benchmark that fails (a broken check, e.g. bench/load's lost-write or
# 5xx checks) is reported and the others still run; make bench then exits 1.
failed=()
runone() { # NAME CMD... : one run, shown as it goes, its RESULT lines into $out
	local t0=$SECONDS rcf rc
	rcf=$(mktemp)
	{ "${@:2}" && echo 0 >"$rcf" || echo $? >"$rcf"; } | tee -a "$out" | grep -v '^RESULT' || true
	rc=$(cat "$rcf")
	rm -f "$rcf"
	if [[ "$rc" != 0 ]]; then
		failed+=("$1")
		echo "== $1: FAILED (exit $rc)"
	fi
	echo "== $1: $((SECONDS - t0)) s"
}
for b in $only; do
	case "$b" in
	auth) runone auth gobench ./app/api AuthAndRateLimit 2000x auth ;;
	ingest) runone ingest gobench ./app/ingest . 5x ingest ;;
	search)
		# The data set (100,000 chunks and the index, about a minute) is
		# loaded once; the measurement runs BENCH_RUNS times on it.
		runone search env ROUNDS="$runs" bench/search/run.sh ;;
	footprint | read | upload | load)
		for i in $(seq "$runs"); do
			echo "== $b, run $i"
			case "$b" in
			read) runone "$b" env DURATION="${BENCH_READ_SECONDS:-7}" bench/read/run.sh ;;
			upload) runone "$b" bench/upload/run.sh "${BENCH_UPLOAD_MIB:-1024}" ;;
			*) runone "$b" "bench/$b/run.sh" ;;
			esac
		done
		;;
	*) echo "unknown benchmark $b" >&2; exit 2 ;;
	esac
done

echo
echo "make bench: $(($(date +%s) - start)) s, $runs run(s), load now $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'PY'
import collections, statistics, sys
vals, meta = collections.OrderedDict(), {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 4 or f[0] != "RESULT":
        continue
    vals.setdefault(f[1], []).append(float(f[2]))
    meta[f[1]] = (f[3], f[4] if len(f) > 4 else "")
w = max([len(k) for k in vals] + [6])
print(f"{'figure':<{w}}  {'min':>10} {'median':>10} {'max':>10}  unit     target")
for k, v in vals.items():
    unit, target = meta[k]
    print(f"{k:<{w}}  {min(v):>10.3f} {statistics.median(v):>10.3f} {max(v):>10.3f}  {unit:<8} {target}")
PY
if ((${#failed[@]})); then
	echo "make bench: failed: ${failed[*]} (their output is above)" >&2
	exit 1
fi

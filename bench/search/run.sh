#!/usr/bin/env bash
# Search benchmark: 100,000 chunks x 1536 dimensions (clustered vectors) in
# one tenant across 1,000 nodes, loaded with COPY; vector search over the
# whole tenant and over a subtree holding 5 % of the chunks. Reports
# recall@10 against an exact scan of the same run, p50/p95/p99 of the SQL
# alone and of GET /nodes/{id}/search, the speed-up over the exact scan,
# and the HNSW index's build time and size.
#
#   bench/search/run.sh                          (the shipped index form)
#   BENCH_SEARCH_INDEX=both bench/search/run.sh  (vector and halfvec indexes side by side)
#   BENCH_SEARCH_INDEX=halfvec bench/search/run.sh   (one form; INDEX= is the old name)
#   CHUNKS=20000 NODES=200 bench/search/run.sh   (a quick run)
#   ROUNDS=3 bench/search/run.sh                 (three measurements on one data set: make bench)
#   PROFILE=1 ...                                (also: embed round trip, and a 15 s CPU
#                                                 profile of the app during endpoint calls)
#
# With both forms, two apps serve the endpoint: this build (the shipped
# form) and one linked with the other form (-X .../app/postgres.indexForm),
# so each is timed over its own index in the same run.
#
# Prints "RESULT name value unit target" lines for bench/all.sh (make bench).
# Targets: recall@10 >= 0.95 in both cases, endpoint p95 <= 20 ms, >= 20x
# faster than the exact scan.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap bench_cleanup EXIT

work=$(mktemp -d /var/tmp/cs-bench-search.XXXXXX)
bench_dirs+=("$work")
bench_bin
go build -o "$work/searchbench" ./bench/search
db="bench_search_$$"
bench_db "$db"
bench_s3 "$work/s3"
export ENVIRONMENT=testing LOG_LEVEL=warn METRICS_ADDR=''
"$bin" migrate up >/dev/null
bench_key 100000000
shipped=$("$work/searchbench" -phase form)
index=${BENCH_SEARCH_INDEX:-${INDEX:-$shipped}}
echo "search bench: ${CHUNKS:-100000} chunks, ${NODES:-1000} nodes, index ${index} (shipped: $shipped); load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/searchbench" -phase load -chunks "${CHUNKS:-100000}" -nodes "${NODES:-1000}" -index "$index"
tenant=$(pg_run psql -d "$db" -Atc "SELECT id FROM tenants WHERE name = 'bench'")
embed_port=$(free_port)
serve_env=(RATE_LIMIT_ENABLED=true EMBEDDINGS_ENABLED=true HNSW_EF_SEARCH="${EF:-100}"
	OPENAI_API_KEY=bench OPENAI_BASE_URL="http://127.0.0.1:$embed_port/v1")
profile=()
metrics=''
if [[ -n "${PROFILE:-}" ]]; then
	metrics="127.0.0.1:$(free_port)"
	profile=(-profile-addr "$metrics" -profile-out "$work/cpu.pprof")
fi
bases=()
for form in $( [[ $index == both ]] && echo vector halfvec || echo "$index"); do
	if [[ $form == "$shipped" ]]; then
		bench_serve "$work/app-$form.log" "${serve_env[@]}" METRICS_ADDR="$metrics"
	else
		shipped_bin=$bin
		bin="$work/app-$form"
		CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/course-supporter/course-supporter/app/postgres.indexForm=$form" \
			-o "$bin" ./app/cmd/course-supporter
		bench_serve "$work/app-$form.log" "${serve_env[@]}"
		bin=$shipped_bin
	fi
	bases+=("$form=$base")
done
for r in $(seq "${ROUNDS:-1}"); do
	((${ROUNDS:-1} == 1)) || echo "== search: measurement round $r of ${ROUNDS} on the same data"
	"$work/searchbench" -phase measure -chunks "${CHUNKS:-100000}" -nodes "${NODES:-1000}" -ef "${EF:-100}" \
		-queries "${QUERIES:-200}" -exact "${EXACT:-50}" -index "$index" -bases "$(IFS=,; echo "${bases[*]}")" \
		-tenant "$tenant" -key "$key" -embed-addr "127.0.0.1:$embed_port" "${profile[@]}"
done
if [[ -n "${PROFILE:-}" ]]; then
	go tool pprof -top -nodecount=40 "$bin" "$work/cpu.pprof" 2>/dev/null | head -50
	if [[ -n "${PROFILE_OUT:-}" ]]; then cp "$work/cpu.pprof" "$PROFILE_OUT"; fi
fi

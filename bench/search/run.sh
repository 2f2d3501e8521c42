#!/usr/bin/env bash
# Search benchmark: 100,000 chunks x 1536 dimensions (clustered vectors) in
# one tenant across 1,000 nodes, loaded with COPY; vector search over the
# whole tenant and over a subtree holding 5 % of the chunks. Reports
# recall@10 against an exact scan of the same run, p50/p95/p99 of the SQL
# alone and of GET /nodes/{id}/search, the speed-up over the exact scan,
# and the HNSW index's build time and size.
#
#   bench/search/run.sh                       (INDEX=vector, the shipped index)
#   INDEX=halfvec bench/search/run.sh         (SQL figures of a halfvec expression index)
#   CHUNKS=20000 NODES=200 bench/search/run.sh   (a quick run)
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
echo "search bench: ${CHUNKS:-100000} chunks, ${NODES:-1000} nodes, index ${INDEX:-vector}; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/searchbench" -phase load -chunks "${CHUNKS:-100000}" -nodes "${NODES:-1000}" -index "${INDEX:-vector}"
tenant=$(pg_run psql -d "$db" -Atc "SELECT id FROM tenants WHERE name = 'bench'")
embed_port=$(free_port)
bench_serve "$work/app.log" RATE_LIMIT_ENABLED=true EMBEDDINGS_ENABLED=true HNSW_EF_SEARCH="${EF:-100}" \
	OPENAI_API_KEY=bench OPENAI_BASE_URL="http://127.0.0.1:$embed_port/v1"
"$work/searchbench" -phase measure -chunks "${CHUNKS:-100000}" -nodes "${NODES:-1000}" -ef "${EF:-100}" \
	-queries "${QUERIES:-200}" -exact "${EXACT:-50}" \
	-tenant "$tenant" -base "$base" -key "$key" -embed-addr "127.0.0.1:$embed_port"

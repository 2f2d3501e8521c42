#!/usr/bin/env bash
# `make run`: a local database and object store, migrations, a dev API key,
# and the API on :8000. Anything already configured in the environment
# (DATABASE_URL, S3_ENDPOINT) is used instead of the local servers.
set -euo pipefail
cd "$(dirname "$0")/.."

export ENVIRONMENT="${ENVIRONMENT:-development}"
export LOG_LEVEL="${LOG_LEVEL:-debug}"
export HTTP_ADDR="${HTTP_ADDR:-:8000}"
export WORKER_IN_PROCESS="${WORKER_IN_PROCESS:-true}"
export LLM_BUILTIN_ENABLED="${LLM_BUILTIN_ENABLED:-true}" # offline builtin-outline model (docs/design/llm.md)

if [[ -z "${DATABASE_URL:-}" ]]; then
	admin=$(scripts/local-pg.sh start dev 55433)
	scripts/local-pg.sh createdb dev 55433 course_supporter
	export DATABASE_URL="${admin%/postgres?*}/course_supporter?sslmode=disable"
fi
if [[ -z "${S3_ENDPOINT:-}" ]]; then
	eval "$(scripts/dev-s3.sh start)"
	export S3_PUBLIC_ENDPOINT="$S3_ENDPOINT"
fi

bin=bin/course-supporter
make --no-print-directory build >/dev/null
"$bin" migrate up
if "$bin" dev-bootstrap --help >/dev/null 2>&1; then
	"$bin" dev-bootstrap
fi
port="${HTTP_ADDR##*:}"
echo
echo "Course Supporter is starting on http://localhost:$port  (health: http://localhost:$port/health, docs: http://localhost:$port/docs)"
echo
exec "$bin" serve

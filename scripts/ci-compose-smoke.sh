#!/usr/bin/env bash
# The production stack under Docker on a CI runner (.github/workflows/ci.yml,
# job "compose"): what .ci/run cannot do without a Docker engine.
#
#   1 build the image (the registry image's recipe) as course-supporter:ci
#   2 .env.prod from .env.prod.example with CI values; profiles worker,edge
#   3 postgres-cs + an S3 server (docker-compose.ci.yml); a self-signed
#     certificate for API_DOMAIN in the certbot-etc volume
#   4 migrate (one-shot), then app, worker and the edge nginx, --wait healthy
#   5 a smoke tenant and key through the admin CLI in the app container;
#     scripts/smoke-test.sh against https://API_DOMAIN through nginx (TLS,
#     headers, http:// → 301), the certificate trusted via CURL_CA_BUNDLE
#   6 scripts/backup.sh to the S3 server, then scripts/restore.sh of that
#     backup into a new database, and a row count compared
#
# Needs docker, openssl, curl, python3, the AWS CLI and sudo (for /etc/hosts).
# Run from the repository root on a throw-away machine: it writes .env.prod.
set -euo pipefail
cd "$(dirname "$0")/.."

API_DOMAIN=${API_DOMAIN:-api.ci.test}
work=$(mktemp -d)
dc=(docker compose --env-file .env.prod -f docker-compose.yml -f docker-compose.ci.yml)
say() { printf '\n==> %s\n' "$*"; }
dump_logs() {
	"${dc[@]}" ps -a || true
	"${dc[@]}" logs --no-color --tail 80 app worker nginx postgres-cs || true
}
on_exit() {
	local rc=$?
	((rc == 0)) || dump_logs
	exit "$rc"
}
trap on_exit EXIT

say "build course-supporter:ci"
docker build --label com.docker.compose.project=course-supporter \
	--build-arg "COMMIT=$(git rev-parse HEAD)" --build-arg VERSION=ci -t course-supporter:ci .

say ".env.prod for CI"
cp .env.prod.example .env.prod
chmod 600 .env.prod
htpasswd="$work/htpasswd"
printf 'ci:%s\n' "$(openssl passwd -apr1 ci-password)" >"$htpasswd"
chmod 644 "$htpasswd"
overrides=(
	IMAGE_REPO=course-supporter IMAGE_TAG=ci IMAGE_DIGEST=
	COMPOSE_PROFILES="worker,edge" API_DOMAIN="$API_DOMAIN"
	POSTGRES_PASSWORD=ci-database-password
	S3_ENDPOINT=http://s3:9000 S3_REGION=us-east-1 S3_BUCKET=course-materials
	S3_ACCESS_KEY=devaccess S3_SECRET_KEY=devsecret-devsecret
	NGINX_HTPASSWD_FILE="$htpasswd" CERTBOT_STATE_DIR="$work/certbot"
)
for kv in "${overrides[@]}"; do
	k=${kv%%=*}
	grep -v "^$k=" .env.prod >"$work/env" || true
	printf '%s\n' "$kv" >>"$work/env"
	cat "$work/env" >.env.prod
done
docker network inspect shared-net >/dev/null 2>&1 || docker network create shared-net

say "database, S3 and a self-signed certificate"
"${dc[@]}" up -d --wait postgres-cs s3
"${dc[@]}" --profile ci-init run --rm s3-init
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$API_DOMAIN" \
	-addext "subjectAltName=DNS:$API_DOMAIN" -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null
chmod 644 "$work/privkey.pem"
docker run --rm -v course-supporter_certbot-etc:/le -v "$work:/src:ro" --entrypoint sh \
	"$("${dc[@]}" config --images nginx | head -n 1)" -c \
	"mkdir -p /le/live/$API_DOMAIN && cp /src/fullchain.pem /src/privkey.pem /le/live/$API_DOMAIN/"

say "migrate, then app, worker, nginx"
"${dc[@]}" run --rm migrate
"${dc[@]}" up -d --wait app worker nginx
echo "127.0.0.1 $API_DOMAIN" | sudo tee -a /etc/hosts >/dev/null

say "smoke test through nginx over TLS"
cli=("${dc[@]}" exec -T app course-supporter)
"${cli[@]}" tenant create --name smoke >/dev/null
key_json=$("${cli[@]}" key create --tenant smoke --scopes prep,check --label ci --expires-in 1h --json)
SMOKE_TEST_API_KEY=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' <<<"$key_json")
export SMOKE_TEST_API_KEY
CURL_CA_BUNDLE="$work/fullchain.pem" scripts/smoke-test.sh "https://$API_DOMAIN"

say "backup, then restore into a new database"
export CS_EXTRA_ENV_FILE=/dev/null BACKUP_LOCAL_DIR="$work/backups" BACKUP_AWS=aws \
	BACKUP_S3_ENDPOINT=http://127.0.0.1:9000 BACKUP_S3_BUCKET=cs-backups BACKUP_S3_REGION=us-east-1 \
	BACKUP_S3_ACCESS_KEY=devaccess BACKUP_S3_SECRET_KEY=devsecret-devsecret
mkdir -p "$BACKUP_LOCAL_DIR"
scripts/backup.sh
scripts/restore.sh latest --target-db restore_check
count() {
	docker exec course-supporter-db psql -U course_supporter -d "$1" -tAc 'SELECT count(*) FROM tenants'
}
live=$(count course_supporter)
restored=$(count restore_check)
[[ $live == "$restored" && $live -ge 1 ]] || { echo "restored $restored tenants, live database has $live" >&2; exit 1; }
echo "restore_check holds the $restored tenant(s) of the live database"
say "compose smoke: all passed"

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
#   6 the edge network: nginx at EDGE_NGINX_IP, the app's :8000/:9090
#     unreachable from another network, X-Real-IP believed from nginx only
#   7 scripts/backup.sh to the S3 server, then scripts/restore.sh of that
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
# The internal edge network, as scripts/deploy.sh creates it on a server.
scripts/edge-network.sh

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

say "edge network: only cs-edge reaches the app, and only nginx is believed"
# docs/operations/index.md, "Edge network". The probe is the nginx image's
# busybox wget, run on a given network.
probe_image=$("${dc[@]}" config --images nginx | head -n 1)
probe() {
	local net=$1
	shift
	docker run --rm --network "$net" --entrypoint wget "$probe_image" -q -T 3 -O /dev/null "$@"
}
edge_ip() { docker inspect -f '{{with index .NetworkSettings.Networks "cs-edge"}}{{.IPAddress}}{{end}}' "$1"; }
want_ip=$(sed -n 's/^EDGE_NGINX_IP=//p' .env.prod | tail -n 1)
[[ $(edge_ip course-supporter-nginx) == "$want_ip" ]] ||
	{ echo "nginx is at '$(edge_ip course-supporter-nginx)' on cs-edge, want EDGE_NGINX_IP $want_ip" >&2; exit 1; }
app_id=$("${dc[@]}" ps -q app)
app_ip=$(edge_ip "$app_id")
# Another project's container: a network of its own, as on shared-net.
docker network create cs-ci-outsider >/dev/null
for url in "http://$app_ip:8000/livez" "http://$app_ip:9090/metrics" http://course-supporter-app:8000/livez; do
	probe cs-edge "$url" || { echo "control: $url does not answer on cs-edge" >&2; exit 1; }
	if probe cs-ci-outsider "$url"; then
		echo "$url answers from outside cs-edge" >&2
		exit 1
	fi
done
# A peer on cs-edge that is not nginx cannot choose its logged address;
# requests through nginx are logged with the client's, not nginx's.
probe cs-edge --header 'X-Real-IP: 203.0.113.9' "http://$app_ip:8000/cs-ci-spoof" || true
logs=$(docker logs "$app_id" 2>&1 | grep '"event":"http_request"')
if grep -q '"remote_ip":"203.0.113.9"' <<<"$logs"; then
	echo "the app believed X-Real-IP from a peer other than nginx" >&2
	exit 1
fi
grep -q '"path":"/cs-ci-spoof"' <<<"$logs" || { echo "the spoof probe was not logged" >&2; exit 1; }
if grep -q "\"remote_ip\":\"$want_ip\"" <<<"$logs"; then
	echo "requests through nginx are logged with nginx's address: X-Real-IP was not believed" >&2
	exit 1
fi
echo "nginx at $want_ip; app unreachable from other networks; X-Real-IP believed from nginx only"

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

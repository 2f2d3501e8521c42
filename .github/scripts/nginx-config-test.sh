#!/usr/bin/env bash
# `nginx -t` of the edge configuration (infra/nginx, docs/operations/index.md) in the
# pinned nginx image, the way mode B runs it: infra/nginx/render.sh renders
# the templates into conf.d (as /docker-entrypoint.d does), then nginx tests
# the image's own nginx.conf, which includes conf.d inside http {}. Mode A
# (a shared nginx that includes the same rendered files inside its http {})
# loads exactly these files, so it is covered too.
#
# Two cases, as on a real host:
#   1. fresh host, no certificate yet: only the HTTP server is rendered;
#   2. with a (self-signed) certificate for the domain: both servers.
#
#   .github/scripts/nginx-config-test.sh        (needs a Docker engine)
#
# The image is the nginx image pinned in docker-compose.yml when that file
# names one, else NGINX_IMAGE below. Ends with "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

domain=example.test
# nginx 1.28 (stable), alpine, multi-arch index digest.
fallback=nginx:1.28-alpine@sha256:a8b39bd9cf0f83869a2162827a0caf6137ddf759d50a171451b335cecc87d236
image=${NGINX_IMAGE:-}
if [[ -z $image && -f docker-compose.yml ]]; then
	image=$(sed -nE 's/^[[:space:]]*image:[[:space:]]*"?(nginx:[^"[:space:]]+).*/\1/p' docker-compose.yml | head -n 1)
fi
image=${image:-$fallback}
echo "nginx image: $image"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# A self-signed certificate laid out like Let's Encrypt's live/ directory.
live="$tmp/le/live/$domain"
mkdir -p "$live"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$domain" \
	-keyout "$live/privkey.pem" -out "$live/fullchain.pem" 2>/dev/null
chmod -R a+rX "$tmp/le"
mkdir -p "$tmp/empty"

# nginx_t NAME LETSENCRYPT_DIR: render, then nginx -t, in a throw-away container.
nginx_t() {
	local name=$1 le=$2
	if docker run --rm \
		-e API_DOMAIN="$domain" \
		-v "$PWD/infra/nginx/templates:/etc/nginx/cs-templates:ro" \
		-v "$PWD/infra/nginx/snippets:/etc/nginx/snippets:ro" \
		-v "$PWD/infra/nginx/render.sh:/cs/render.sh:ro" \
		-v "$le:/etc/letsencrypt:ro" \
		--entrypoint sh "$image" -c 'sh /cs/render.sh && ls /etc/nginx/conf.d && nginx -t' >"$tmp/out" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
	fi
	sed 's/^/     | /' "$tmp/out"
}

nginx_t "fresh host, no certificate: HTTP server only" "$tmp/empty"
nginx_t "certificate present: HTTP and HTTPS servers" "$tmp/le"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

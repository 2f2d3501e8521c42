#!/usr/bin/env bash
# First issuance of the TLS certificate for API_DOMAIN (ACME http-01 through
# the webroot that nginx serves on port 80), then an nginx reload, which adds
# the HTTPS server (infra/nginx/render.sh renders it once the file exists).
#
#   CERTBOT_STAGING=1 scripts/cert-issue.sh      # a new host: staging CA first
#   scripts/cert-issue.sh --force-renewal        # then the real certificate
#
# --force-renewal is needed once when replacing a staging certificate: certbot
# otherwise keeps an existing, unexpired certificate. Further arguments go to
# certbot. Idempotent: an existing valid certificate is kept. Configuration:
# API_DOMAIN, ACME_EMAIL, CERTBOT_STAGING and the variables in
# infra/certbot/lib.sh, from the environment or .env.prod.
set -euo pipefail
CS_PROJECT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
export CS_LOG_TAG=cert-issue
# shellcheck source=../infra/certbot/lib.sh
source "$CS_PROJECT_DIR/infra/certbot/lib.sh"
cs_require API_DOMAIN ACME_EMAIL

args=(certonly --webroot -w "$CERTBOT_WEBROOT" -d "$API_DOMAIN"
	--email "$ACME_EMAIL" --agree-tos --non-interactive --no-eff-email
	--deploy-hook "$CERTBOT_DEPLOY_HOOK")
# The staging CA has generous rate limits; its certificates are not trusted
# by browsers, which is the point: prove the challenge path before asking the
# production CA (5 failed validations per hour, 5 duplicates per week).
if [[ "${CERTBOT_STAGING:-0}" == 1 ]]; then
	args+=(--staging)
	cs_log "using the Let's Encrypt STAGING CA (CERTBOT_STAGING=1)"
fi

cs_log "requesting a certificate for $API_DOMAIN"
certbot_run "${args[@]}" "$@"
reload_if_deployed render

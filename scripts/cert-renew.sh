#!/usr/bin/env bash
# Renewal, run twice a day by infra/certbot/course-supporter-cert-renew.timer.
# `certbot renew` renews only certificates with a third of their lifetime left
# (30 days of 90), or earlier when the CA's renewal info (ARI) says so, using
# the webroot recorded at issuance; the deploy hook runs only for a certificate
# that was renewed, and nginx is reloaded only then. Arguments go to certbot
# (e.g. --dry-run to rehearse against the staging CA, --force-renewal).
# Exits non-zero on any failure, which the timer's OnFailure= turns into a
# Telegram message.
set -euo pipefail
CS_PROJECT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
export CS_LOG_TAG=cert-renew
# shellcheck source=../infra/certbot/lib.sh
source "$CS_PROJECT_DIR/infra/certbot/lib.sh"

# --no-random-sleep-on-renew: without a TTY certbot sleeps up to 8 minutes
# before renewing to spread load on the CA; the timer already does that
# (RandomizedDelaySec=1h), and a second delay only stretches the run.
certbot_run renew --non-interactive --no-random-sleep-on-renew \
	--deploy-hook "$CERTBOT_DEPLOY_HOOK" "$@"
reload_if_deployed reload-only

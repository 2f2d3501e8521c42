#!/bin/sh
# certbot --deploy-hook. certbot runs it once per certificate lineage, and only
# when that certificate was actually issued or renewed (never on a renew run
# that found nothing due). It does not reload nginx itself: in mode B it runs
# inside the certbot container, which has no Docker socket and no business
# having one. It leaves a marker instead; scripts/cert-issue.sh and
# scripts/cert-renew.sh (on the host) reload nginx when the marker exists and
# delete it only after the reload succeeded, so a failed reload is retried on
# the next timer run.
#
# CERTBOT_STATE_DIR is the same path on the host and in the container (a bind
# mount, see docker-compose.yml service certbot).
set -eu
state="${CERTBOT_STATE_DIR:-/var/lib/course-supporter/certbot}"
mkdir -p "$state"
printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${RENEWED_LINEAGE:-unknown}" >>"$state/reload-needed"

# shellcheck shell=bash
# Shared by scripts/cert-issue.sh and scripts/cert-renew.sh. Sourced. Bash.
#
# Defaults describe mode B (this project's nginx and certbot, compose profile
# "edge"). Mode A (a shared nginx of another compose project) overrides
# NGINX_RELOAD_CMD in .env.prod; see docs/operations/index.md.
#
#   CERTBOT_CMD          how to run certbot. Default: the compose service, whose
#                        volumes hold /etc/letsencrypt and the webroot.
#   CERTBOT_WEBROOT      the webroot as certbot sees it (/var/www/certbot).
#   CERTBOT_DEPLOY_HOOK  the deploy hook as certbot sees it.
#   CERTBOT_STATE_DIR    where the hook leaves its reload marker (host path,
#                        bind-mounted at the same path into the container).
#   CERTBOT_EXTRA_ARGS   appended to every certbot call (tests: --server and
#                        private directories).
#   NGINX_RENDER_CMD     re-render the site files (cert-issue.sh only: the
#                        first issuance adds the HTTPS server).
#   NGINX_RELOAD_CMD     test and reload nginx, which picks up renewed
#                        certificate files. Renewals never re-render: the
#                        templates change only through a deploy, which
#                        applies them itself (scripts/deploy.sh), never from
#                        whatever commit the timer finds checked out.

# shellcheck source=../lib/common.sh
source "$CS_PROJECT_DIR/infra/lib/common.sh"

cs_load API_DOMAIN ACME_EMAIL CERTBOT_STAGING CERTBOT_CMD CERTBOT_WEBROOT \
	CERTBOT_DEPLOY_HOOK CERTBOT_STATE_DIR CERTBOT_EXTRA_ARGS NGINX_RELOAD_CMD NGINX_RENDER_CMD

: "${CERTBOT_CMD:=docker compose --env-file $(cs_env_file) -f $CS_PROJECT_DIR/docker-compose.yml run --rm --no-deps certbot}"
: "${CERTBOT_WEBROOT:=/var/www/certbot}"
: "${CERTBOT_DEPLOY_HOOK:=/opt/course-supporter/deploy-hook.sh}"
: "${CERTBOT_STATE_DIR:=/var/lib/course-supporter/certbot}"
: "${CERTBOT_EXTRA_ARGS:=}"
# `nginx -t` first so that a bad file never replaces a working configuration.
: "${NGINX_RENDER_CMD:=docker exec course-supporter-nginx sh /etc/nginx/cs/render.sh}"
: "${NGINX_RELOAD_CMD:=docker exec course-supporter-nginx sh -c 'nginx -t -q && nginx -s reload'}"
export CERTBOT_STATE_DIR

MARKER="$CERTBOT_STATE_DIR/reload-needed"

# The hook's marker directory must exist and be ours before certbot runs:
# created by Docker for the bind mount it would belong to root, and a
# deploy user could then never remove the marker.
[[ -d "$CERTBOT_STATE_DIR" && -w "$CERTBOT_STATE_DIR" ]] ||
	cs_die "$CERTBOT_STATE_DIR must exist and be writable: sudo install -d -o $(id -un) $CERTBOT_STATE_DIR"

# certbot ARGS... runs certbot through CERTBOT_CMD with CERTBOT_EXTRA_ARGS.
certbot_run() {
	local -a cmd extra
	cs_words cmd "$CERTBOT_CMD"
	cs_words extra "$CERTBOT_EXTRA_ARGS"
	"${cmd[@]}" "$@" "${extra[@]}"
}

# reload_if_deployed render|reload-only reloads nginx when the deploy hook left its
# marker, re-rendering the site first only when asked (first issuance), and
# removes the marker only after the reload succeeded.
reload_if_deployed() {
	if [[ ! -e "$MARKER" ]]; then
		cs_log "no certificate was deployed; nginx left alone"
		return 0
	fi
	if [[ ${1:-} == render ]]; then
		cs_log "re-rendering the nginx site (templates of $(git -C "$CS_PROJECT_DIR" rev-parse --short HEAD 2>/dev/null || echo 'this checkout'))"
		bash -c "$NGINX_RENDER_CMD" || cs_die "rendering the nginx site failed; marker kept, the next run retries"
	fi
	cs_log "certificate deployed ($(tail -n 1 "$MARKER")); reloading nginx"
	bash -c "$NGINX_RELOAD_CMD" || cs_die "nginx reload failed; marker kept, the next run retries"
	rm -f "$MARKER"
	cs_log "nginx reloaded"
}

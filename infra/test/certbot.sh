#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions are also called through wait_until and traps
# TLS certificate tests: Debian's certbot gets certificates from pebble (the
# ACME test CA) through the real http-01 challenge, answered by the nginx
# from infra/nginx serving the webroot; scripts/cert-issue.sh and
# scripts/cert-renew.sh drive it exactly as the systemd timer would, only
# with local paths. pebble resolves the domain through dnsmasq.
AREA=certbot
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

DOMAIN=api.test.example
P80=$(free_port) P443=$(free_port) PDNS=$(free_port) PACME=$(free_port) PMGMT=$(free_port) PTLS=$(free_port)
LE="$T/letsencrypt"
mkdir -p "$T/www" "$T/conf.d" "$T/state" "$LE"
touch "$T/htpasswd"

# pebble's own HTTPS endpoint needs a certificate that certbot trusts.
make_ca "$T/ca" "pebble API test CA"
make_cert "$T/ca" pebble "DNS:localhost" "IP:127.0.0.1"
cat >"$T/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$PACME", "managementListenAddress": "127.0.0.1:$PMGMT",
  "certificate": "$T/ca/pebble.pem", "privateKey": "$T/ca/pebble.key",
  "httpPort": $P80, "tlsPort": $PTLS, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF
echo "127.0.0.1 $DOMAIN" >"$T/hosts"

export API_DOMAIN=$DOMAIN
export CS_TEMPLATE_DIR="$REPO/infra/nginx/templates" CS_OUTPUT_DIR="$T/conf.d" CS_SNIPPETS_DIR="$REPO/infra/nginx/snippets"
export CS_HTTP_LISTEN="127.0.0.1:$P80" CS_HTTP_LISTEN_V6="[::1]:$P80"
export CS_HTTPS_LISTEN="127.0.0.1:$P443" CS_HTTPS_LISTEN_V6="[::1]:$P443"
export CS_TLS_CERT="$LE/etc/live/$DOMAIN/fullchain.pem" CS_TLS_KEY="$LE/etc/live/$DOMAIN/privkey.pem"
export CS_RESOLVER="127.0.0.1:$PDNS valid=1s ipv6=off" CS_APP_UPSTREAM="cs-app.test:1" CS_NETDATA_UPSTREAM="cs-netdata.test:1"
export CS_ACME_WEBROOT="$T/www" CS_HTPASSWD_FILE="$T/htpasswd"
NGINX=(nginx -c "$T/nginx.conf" -p "$T/" -e "$T/nginx-error.log")
nginx_conf "$T/nginx.conf" "$T/conf.d"

# What cert-*.sh read from the environment instead of .env.prod. The render
# and reload commands are the host-side equivalents of the compose defaults
# and count their calls.
export CS_ENV_FILE=/dev/null ACME_EMAIL=ops@test.example CERTBOT_CMD=certbot
export CERTBOT_WEBROOT="$T/www" CERTBOT_DEPLOY_HOOK="$REPO/infra/certbot/deploy-hook.sh" CERTBOT_STATE_DIR="$T/state"
export CERTBOT_EXTRA_ARGS="--server https://127.0.0.1:$PACME/dir --config-dir $LE/etc --work-dir $LE/work --logs-dir $LE/logs"
RELOAD="${NGINX[*]} -t -q && ${NGINX[*]} -s reload && echo reload >>$T/reloads"
export NGINX_RELOAD_CMD="$RELOAD"
export NGINX_RENDER_CMD="sh $REPO/infra/nginx/render.sh 2>/dev/null && echo render >>$T/renders"
renders() { wc -l <"$T/renders" 2>/dev/null || echo 0; }
export REQUESTS_CA_BUNDLE="$T/ca/ca.pem"
reloads() { wc -l <"$T/reloads" 2>/dev/null || echo 0; }

sh "$REPO/infra/nginx/render.sh" 2>/dev/null
start_dnsmasq "$PDNS" "$T/hosts"
# NOSLEEP: no random validation delay; NONCEREJECT=0: no random badNonce.
bg pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$T/pebble.json" -dnsserver "127.0.0.1:$PDNS"
bg nginx "${NGINX[@]}"
if ! { wait_until 10 port_open "$PACME" && wait_until 10 port_open "$P80"; }; then
	fail "pebble and nginx start" "$(cat "$T/pebble.log" "$T/nginx-error.log" 2>/dev/null)"
fi

if port_open "$P443"; then
	fail "a fresh host's nginx serves HTTP only (no certificate yet)"
else
	pass "a fresh host's nginx serves HTTP only (no certificate yet)"
fi

served_serial() {
	openssl s_client -connect "127.0.0.1:$P443" -servername "$DOMAIN" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
file_serial() { openssl x509 -in "$LE/etc/live/$DOMAIN/cert.pem" -noout -serial | cut -d= -f2; }
# nginx -s reload returns before the new workers take over: poll briefly.
serves() { [[ "$(served_serial)" == "$1" ]]; }
wait_serves() { wait_until 5 serves "$1"; }

# --- first issuance ------------------------------------------------------------------
if out=$("$REPO/scripts/cert-issue.sh" 2>&1); then
	pass "cert-issue.sh obtains a certificate through the webroot challenge served by nginx"
else
	fail "cert-issue.sh obtains a certificate through the webroot challenge served by nginx" "$out"
fi
if grep -q '"uri":"/.well-known/acme-challenge/.*"status":200.*Pebble' "$T/nginx.log"; then
	pass "pebble's validation request went through nginx's ACME location"
else
	fail "pebble's validation request went through nginx's ACME location" "$(tail -n 5 "$T/nginx.log")"
fi
check_eq "the deploy hook ran once and cert-issue.sh reloaded nginx" "1 absent" \
	"$(reloads) $([[ -e "$T/state/reload-needed" ]] && echo present || echo absent)"
first=$(file_serial)
wait_serves "$first"
check_eq "nginx now serves the new certificate on 443" "$first" "$(served_serial)"
curl -sS --max-time 10 "https://127.0.0.1:$PMGMT/roots/0" --cacert "$T/ca/ca.pem" -o "$T/pebble-root.pem"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/pebble-root.pem" --resolve "$DOMAIN:$P443:127.0.0.1" "https://$DOMAIN:$P443/")
check_eq "the served chain verifies against pebble's root for $DOMAIN (502: no app behind it)" 502 "$code"

# --- renewal ---------------------------------------------------------------------------
if out=$("$REPO/scripts/cert-renew.sh" 2>&1); then
	check_eq "cert-renew.sh with nothing due renews nothing and does not reload nginx" "1 $first" "$(reloads) $(served_serial)"
else
	fail "cert-renew.sh with nothing due succeeds" "$out"
fi
if out=$("$REPO/scripts/cert-renew.sh" --dry-run 2>&1); then
	check_eq "cert-renew.sh --dry-run completes a challenge without deploying" "1 $first" "$(reloads) $(file_serial)"
else
	fail "cert-renew.sh --dry-run completes a challenge" "$out"
fi
if out=$("$REPO/scripts/cert-renew.sh" --force-renewal 2>&1); then
	second=$(file_serial)
	wait_serves "$second"
	if [[ "$second" != "$first" && "$(served_serial)" == "$second" && "$(reloads)" == 2 ]]; then
		pass "a forced renewal makes nginx serve the new certificate (serial $first -> $second)"
	else
		fail "a forced renewal makes nginx serve the new certificate" "first $first, file $second, served $(served_serial), reloads $(reloads)"
	fi
else
	fail "a forced renewal succeeds" "$out"
fi

# A reload that fails keeps the marker, so the next (even idle) run retries it.
if NGINX_RELOAD_CMD=false "$REPO/scripts/cert-renew.sh" --force-renewal >"$T/failed-reload.log" 2>&1; then
	fail "a failed nginx reload makes cert-renew.sh fail (so the timer's OnFailure fires)"
else
	check_eq "a failed nginx reload makes cert-renew.sh fail and keeps the marker" present \
		"$([[ -e "$T/state/reload-needed" ]] && echo present || echo absent)"
fi
third=$(file_serial)
"$REPO/scripts/cert-renew.sh" >"$T/retry.log" 2>&1
wait_serves "$third"
check_eq "the next run reloads nginx for the pending certificate" "$third absent" \
	"$(served_serial) $([[ -e "$T/state/reload-needed" ]] && echo present || echo absent)"
# Only the first issuance renders; renewals reload what the deploy rendered,
# whatever commit is checked out when the timer fires.
check_eq "renewals reload nginx without re-rendering the templates (only cert-issue.sh renders)" 1 "$(renders)"

# --- the staging switch and .env.prod --------------------------------------------------------
# A stand-in certbot that records its arguments: the staging CA cannot be
# reached from here, and certbot rejects --staging together with --server.
cat >"$T/fake-certbot" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/certbot-args"
EOF
chmod +x "$T/fake-certbot"
cat >"$T/env.prod" <<EOF
# as an operator writes it
API_DOMAIN=api.example.org
ACME_EMAIL="ops@example.org"
CERTBOT_STAGING=1
EOF
env -u API_DOMAIN -u ACME_EMAIL CS_ENV_FILE="$T/env.prod" CERTBOT_CMD="$T/fake-certbot" CERTBOT_EXTRA_ARGS= \
	"$REPO/scripts/cert-issue.sh" >/dev/null 2>&1
args=$(xargs <"$T/certbot-args")
if [[ " $args " == *" --staging "* && " $args " == *" -d api.example.org "* && " $args " == *" --email ops@example.org "* &&
	" $args " == *" --webroot -w $T/www "* && " $args " == *" --deploy-hook $REPO/infra/certbot/deploy-hook.sh "* ]]; then
	pass "CERTBOT_STAGING=1 (read from .env.prod) adds --staging to a webroot issuance"
else
	fail "CERTBOT_STAGING=1 (read from .env.prod) adds --staging to a webroot issuance" "$args"
fi
env -u API_DOMAIN -u ACME_EMAIL CS_ENV_FILE="$T/env.prod" CERTBOT_STAGING=0 CERTBOT_CMD="$T/fake-certbot" \
	CERTBOT_EXTRA_ARGS= "$REPO/scripts/cert-issue.sh" >/dev/null 2>&1
check_eq "CERTBOT_STAGING=0 requests from the production CA" "" "$(grep -x -- --staging "$T/certbot-args")"

# --- the renewal timer ---------------------------------------------------------------------------
# systemd-analyze checks directives and the calendar expression; ExecStart is
# pointed at this checkout because /opt/course-supporter does not exist here.
mkdir -p "$T/units"
cp "$REPO"/infra/certbot/*.service "$REPO"/infra/certbot/*.timer "$REPO"/infra/backup/*.service "$REPO"/infra/backup/*.timer "$T/units/"
sed -i "s|/opt/course-supporter/|$REPO/|g" "$T"/units/*
check "systemd-analyze verify accepts the renewal, backup and restore-test units" \
	bash -c "cd '$T/units' && out=\$(systemd-analyze verify *.service *.timer 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
check_eq "renewal runs twice a day" "*-*-* 00,12:00:00" \
	"$(systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$REPO/infra/certbot/course-supporter-cert-renew.timer")" | sed -n 's/^ *Normalized form: //p')"

finish

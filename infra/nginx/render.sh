#!/bin/sh
# Renders the course-supporter nginx templates into an nginx include directory.
#
#   Mode B (compose profile "edge"): infra/nginx is mounted at /etc/nginx/cs
#     and infra/nginx/entrypoint.sh runs this before nginx starts.
#     scripts/cert-issue.sh runs it again before its reload, so the HTTPS
#     server appears after the first issuance; scripts/deploy.sh runs it when
#     a deploy changes infra/nginx. Renewals only reload (they never apply
#     templates of whatever commit happens to be checked out).
#   Mode A (shared nginx): run on the host with CS_OUTPUT_DIR pointing at the
#     shared nginx's conf.d, then `nginx -t && nginx -s reload` there.
#   Tests: scripts/test-infra.sh renders with loopback ports and temp paths.
#
# POSIX sh on purpose: the alpine image has no bash. Only the variables listed
# in $vars are substituted, so nginx's own $host, $request_uri ... survive.
# Output files are written to a temp name and renamed, so a concurrent reload
# never reads half a file.
set -eu

: "${API_DOMAIN:?API_DOMAIN must be set, e.g. api.example.com}"
: "${CS_TEMPLATE_DIR:=/etc/nginx/cs-templates}"
: "${CS_OUTPUT_DIR:=/etc/nginx/conf.d}"
: "${CS_SNIPPETS_DIR:=/etc/nginx/snippets}"
: "${CS_HTTP_LISTEN:=80}"
: "${CS_HTTP_LISTEN_V6:=[::]:80}"
: "${CS_HTTPS_LISTEN:=443}"
: "${CS_HTTPS_LISTEN_V6:=[::]:443}"
: "${CS_TLS_CERT:=/etc/letsencrypt/live/${API_DOMAIN}/fullchain.pem}"
: "${CS_TLS_KEY:=/etc/letsencrypt/live/${API_DOMAIN}/privkey.pem}"
# Docker's embedded DNS; see the resolver comment in the TLS template.
: "${CS_RESOLVER:=127.0.0.11 valid=30s ipv6=off}"
: "${CS_APP_UPSTREAM:=course-supporter-app:8000}"
: "${CS_NETDATA_UPSTREAM:=netdata:19999}"
: "${CS_ACME_WEBROOT:=/var/www/certbot}"
: "${CS_HTPASSWD_FILE:=/etc/nginx/.htpasswd_netdata}"
# auto: the HTTPS server once CS_TLS_CERT exists. on/off force it: mode A
# renders on the host, where the certificate (inside a Docker volume) is
# not visible at the path nginx uses.
: "${CS_TLS:=auto}"
# auto: listen on IPv6 only where the kernel offers it (Docker networks are
# often IPv4-only, and `listen [::]:80` would then stop nginx from starting).
: "${CS_IPV6:=auto}"

# Single quotes on purpose: envsubst takes the list of names literally.
# shellcheck disable=SC2016
vars='${API_DOMAIN} ${CS_SNIPPETS_DIR} ${CS_HTTP_LISTEN} ${CS_HTTP_LISTEN_V6}
${CS_HTTPS_LISTEN} ${CS_HTTPS_LISTEN_V6} ${CS_TLS_CERT} ${CS_TLS_KEY}
${CS_RESOLVER} ${CS_APP_UPSTREAM} ${CS_NETDATA_UPSTREAM} ${CS_ACME_WEBROOT}
${CS_HTPASSWD_FILE}'
export API_DOMAIN CS_SNIPPETS_DIR CS_HTTP_LISTEN CS_HTTP_LISTEN_V6 \
	CS_HTTPS_LISTEN CS_HTTPS_LISTEN_V6 CS_TLS_CERT CS_TLS_KEY CS_RESOLVER \
	CS_APP_UPSTREAM CS_NETDATA_UPSTREAM CS_ACME_WEBROOT CS_HTPASSWD_FILE

log() { echo "course-supporter-nginx: $*" >&2; }

# Values are pasted into nginx syntax: refuse anything that could end a
# directive or open a block, and insist on a plain host name for the domain.
case "$API_DOMAIN" in
*[!A-Za-z0-9.-]* | "" | .* | *..*)
	log "API_DOMAIN '$API_DOMAIN' is not a host name"
	exit 1
	;;
esac
for v in "$CS_SNIPPETS_DIR" "$CS_HTTP_LISTEN" "$CS_HTTP_LISTEN_V6" "$CS_HTTPS_LISTEN" \
	"$CS_HTTPS_LISTEN_V6" "$CS_TLS_CERT" "$CS_TLS_KEY" "$CS_RESOLVER" \
	"$CS_APP_UPSTREAM" "$CS_NETDATA_UPSTREAM" "$CS_ACME_WEBROOT" "$CS_HTPASSWD_FILE"; do
	case "$v" in
	*[\;\{\}\"\'\$]* | "")
		log "refusing empty value or one with ; { } quotes or \$: '$v'"
		exit 1
		;;
	esac
done

ipv6=$CS_IPV6
if [ "$ipv6" = auto ]; then
	if [ -f /proc/net/if_inet6 ]; then ipv6=on; else ipv6=off; fi
fi

render() { # render TEMPLATE OUTPUT
	tmp="$CS_OUTPUT_DIR/.$2.tmp"
	envsubst "$vars" <"$CS_TEMPLATE_DIR/$1" >"$tmp"
	if [ "$ipv6" = off ]; then
		sed -i '/^[[:space:]]*listen[[:space:]]*\[/d' "$tmp"
	fi
	mv -f "$tmp" "$CS_OUTPUT_DIR/$2"
}

tls=$CS_TLS
if [ "$tls" = auto ]; then
	if [ -f "$CS_TLS_CERT" ]; then tls=on; else tls=off; fi
fi

mkdir -p "$CS_OUTPUT_DIR"
render course-supporter-10-http.conf.template course-supporter-10-http.conf
if [ "$tls" = on ]; then
	render course-supporter-20-https.conf.template course-supporter-20-https.conf
	log "rendered HTTP and HTTPS servers for $API_DOMAIN"
else
	# A fresh host has no certificate yet: serve port 80 (ACME challenge and
	# the redirect) so that certbot can obtain one.
	rm -f "$CS_OUTPUT_DIR/course-supporter-20-https.conf"
	log "HTTP only (ACME challenge + redirect): no certificate at $CS_TLS_CERT yet, or CS_TLS=off"
fi

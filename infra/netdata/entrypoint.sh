#!/bin/sh
# Entrypoint wrapper for the netdata container: renders the one go.d file that
# needs a deployment value (API_DOMAIN), then hands over to the image's own
# entrypoint. Everything else is mounted read-only from the repository.
#
# Paths are variables only so that the tests can run this outside the image.
set -eu
: "${API_DOMAIN:?API_DOMAIN must be set for the TLS certificate check}"
: "${CS_NETDATA_TEMPLATE:=/etc/cs-netdata/x509check.conf.template}"
: "${CS_NETDATA_GOD_DIR:=/etc/netdata/go.d}"
: "${CS_NETDATA_ENTRYPOINT:=/usr/sbin/run.sh}"

case "$API_DOMAIN" in
*[!A-Za-z0-9.-]* | .* | *..*)
	echo "netdata entrypoint: API_DOMAIN '$API_DOMAIN' is not a host name" >&2
	exit 1
	;;
esac

mkdir -p "$CS_NETDATA_GOD_DIR"
sed "s/\${API_DOMAIN}/$API_DOMAIN/g" "$CS_NETDATA_TEMPLATE" >"$CS_NETDATA_GOD_DIR/.x509check.conf.tmp"
mv -f "$CS_NETDATA_GOD_DIR/.x509check.conf.tmp" "$CS_NETDATA_GOD_DIR/x509check.conf"
exec "$CS_NETDATA_ENTRYPOINT" "$@"

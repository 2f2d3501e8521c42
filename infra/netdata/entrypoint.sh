#!/bin/sh
# Entrypoint wrapper for the netdata container: links the repository's
# collector and notification files into /etc/netdata, renders the one go.d
# file that needs a deployment value (API_DOMAIN), then hands over to the
# image's own entrypoint.
#
# infra/netdata is mounted read-only as a DIRECTORY at /etc/cs-netdata: a
# single-file bind mount keeps pointing at the old inode after `git checkout`
# replaces the file, so configuration changes would never arrive. Symlinks
# resolve by path, so the files a deploy checks out are the files netdata
# reads when the deploy recreates it (scripts/deploy.sh).
#
# Paths are variables only so that the tests can run this outside the image.
set -eu
: "${API_DOMAIN:?API_DOMAIN must be set for the TLS certificate check}"
: "${CS_NETDATA_SRC:=/etc/cs-netdata}"
: "${CS_NETDATA_TEMPLATE:=$CS_NETDATA_SRC/go.d/x509check.conf.template}"
: "${CS_NETDATA_CONF_DIR:=/etc/netdata}"
: "${CS_NETDATA_GOD_DIR:=$CS_NETDATA_CONF_DIR/go.d}"
: "${CS_NETDATA_ENTRYPOINT:=/usr/sbin/run.sh}"

case "$API_DOMAIN" in
*[!A-Za-z0-9.-]* | .* | *..*)
	echo "netdata entrypoint: API_DOMAIN '$API_DOMAIN' is not a host name" >&2
	exit 1
	;;
esac

mkdir -p "$CS_NETDATA_GOD_DIR"
for f in go.d/httpcheck.conf go.d/prometheus.conf health_alarm_notify.conf; do
	if [ -f "$CS_NETDATA_SRC/$f" ]; then
		ln -sfn "$CS_NETDATA_SRC/$f" "$CS_NETDATA_CONF_DIR/$f"
	fi
done
sed "s/\${API_DOMAIN}/$API_DOMAIN/g" "$CS_NETDATA_TEMPLATE" >"$CS_NETDATA_GOD_DIR/.x509check.conf.tmp"
mv -f "$CS_NETDATA_GOD_DIR/.x509check.conf.tmp" "$CS_NETDATA_GOD_DIR/x509check.conf"
exec "$CS_NETDATA_ENTRYPOINT" "$@"

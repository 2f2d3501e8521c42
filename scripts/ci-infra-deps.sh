#!/usr/bin/env bash
# Installs what scripts/test-infra.sh needs on a fresh Debian 12 machine:
# Debian's nginx, certbot, pebble, netdata, dnsmasq, testssl.sh and friends,
# plus versitygw (the S3 server the backup tests use). Idempotent and quiet:
# installs only what is missing, prints one line, exits non-zero on failure.
# Needs root (apt-get). Services are never started: the packages' init
# scripts are suppressed while installing, so nothing listens on ports 80,
# 53 or 19999 afterwards; the tests start their own instances on loopback.
set -euo pipefail

packages=(
	nginx certbot pebble dnsmasq-base testssl.sh  # the edge and its TLS checks
	netdata-core netdata-plugins-bash faketime    # alarms (alarm-notify.sh), 60x clock
	apache2-utils openssl curl python3 procps     # htpasswd, test CA, clients, pgrep
	awscli age debootstrap                        # backups: S3 CLI, encryption, PostgreSQL chroot
	systemd                                       # systemd-analyze for the timer units
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if ((${#missing[@]})); then
	[[ $(id -u) -eq 0 ]] || { echo "ci-infra-deps: installing ${missing[*]} needs root" >&2; exit 1; }
	# Keep package scripts from starting nginx, dnsmasq or netdata.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	log=$(mktemp)
	export DEBIAN_FRONTEND=noninteractive
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		echo "ci-infra-deps: apt-get install ${missing[*]} failed" >&2
		exit 1
	fi
	rm -f "$log"
fi

# versitygw: the same pinned version .ci/run installs for `make run`.
vgw_bin="$(go env GOPATH 2>/dev/null)/bin/versitygw"
if ! command -v versitygw >/dev/null && [[ ! -x "$vgw_bin" ]]; then
	GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

echo "ci-infra-deps: ready (${#missing[@]} package(s) installed)"

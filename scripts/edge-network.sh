#!/usr/bin/env bash
# Creates, or checks, the edge network cs-edge: the only network on which the
# app's :8000 and :9090 and netdata's :19999 can be reached, shared by the app,
# netdata and the nginx in front of them (docs/operations/index.md, "Edge
# network"). It is `internal` (no route out: the app and netdata reach the
# internet over the project's default network) and has a fixed subnet, so
# that nginx can have a fixed address there and the app trusts X-Real-IP
# from that one address only (TRUSTED_PROXIES=EDGE_NGINX_IP/32, pinned in
# docker-compose.yml).
#
# Created outside compose, like any network two projects share: in mode A the
# other project's nginx joins it (external: true there and in our compose
# file), and neither project's `down` can then remove it under the other.
#
#   scripts/edge-network.sh [--connect CONTAINER]
#       reads .env.prod of this checkout (CS_ENV_FILE overrides the path).
#       --connect: also attach that running container (an nginx) at
#       EDGE_NGINX_IP if it is not on the network yet: the one-time move of a
#       host from shared-net, before the app leaves it (scripts/deploy.sh for
#       the edge nginx; the runbook for mode A's nginx). A container that
#       does not run is skipped.
#
# Settings (environment first, then the env file; defaults in this script and
# as ${…:-} defaults in docker-compose.yml, kept equal by
# app/internal/deploytest):
#   EDGE_SUBNET=172.30.240.0/24   a /16 to /28 IPv4 network; the upper half is
#                                 Docker's dynamic range (--ip-range), the
#                                 lower half is for fixed addresses
#   EDGE_NGINX_IP=172.30.240.2    nginx's fixed address: inside the lower half,
#                                 not the network address or the gateway (.1)
#
# Idempotent: an existing network with the same settings is left alone; one
# that differs (not internal, another subnet) is an error, never silently
# "fixed" (recreating it would cut off every container on it).
# Called by scripts/deploy.sh before it starts anything, and by
# scripts/ci-compose-smoke.sh. Exit status: 0 ready, 1 error.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../infra/lib/common.sh
. infra/lib/common.sh
CS_LOG_TAG=edge-network

EDGE_NETWORK=cs-edge
connect=""
case "${1:-}" in
"") ;;
--connect) connect=${2:?--connect needs a container name} ;;
*)
	echo "usage: edge-network.sh [--connect CONTAINER]" >&2
	exit 2
	;;
esac
cs_load EDGE_SUBNET EDGE_NGINX_IP
: "${EDGE_SUBNET:=172.30.240.0/24}"
: "${EDGE_NGINX_IP:=172.30.240.2}"

# ip_int A.B.C.D: the address as a 32-bit integer, or failure.
ip_int() {
	local IFS=. a b c d
	[[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
	read -r a b c d <<<"$1"
	((a < 256 && b < 256 && c < 256 && d < 256)) || return 1
	echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
int_ip() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }

net=${EDGE_SUBNET%/*}
prefix=${EDGE_SUBNET#*/}
if [[ $EDGE_SUBNET != */* || ! $prefix =~ ^[0-9]+$ ]] || ((prefix < 16 || prefix > 28)); then
	cs_die "EDGE_SUBNET '$EDGE_SUBNET' is not an IPv4 network with a prefix from /16 to /28"
fi
base=$(ip_int "$net") || cs_die "EDGE_SUBNET '$EDGE_SUBNET' is not an IPv4 network"
size=$((1 << (32 - prefix)))
((base % size == 0)) || cs_die "EDGE_SUBNET '$EDGE_SUBNET' has host bits set (the network address is $(int_ip $((base - base % size)))/$prefix)"
ip=$(ip_int "$EDGE_NGINX_IP") || cs_die "EDGE_NGINX_IP '$EDGE_NGINX_IP' is not an IPv4 address"
gateway=$((base + 1))
half=$((base + size / 2))
((ip > gateway && ip < half)) ||
	cs_die "EDGE_NGINX_IP $EDGE_NGINX_IP must lie in the lower half of $EDGE_SUBNET, above the gateway: $(int_ip $((gateway + 1)))-$(int_ip $((half - 1)))"
ip_range="$(int_ip "$half")/$((prefix + 1))"

# The app trusts EDGE_NGINX_IP/32, pinned in docker-compose.yml; a value left
# in the env file from before is overridden there, which deserves a word.
proxies=$(cs_env_get TRUSTED_PROXIES)
if [[ -n $proxies && $proxies != "$EDGE_NGINX_IP/32" ]]; then
	cs_log "note: TRUSTED_PROXIES=$proxies in $(cs_env_file) is ignored; docker-compose.yml sets $EDGE_NGINX_IP/32 (EDGE_NGINX_IP). Delete the line."
fi

if have=$(docker network inspect "$EDGE_NETWORK" --format '{{.Internal}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>/dev/null); then
	[[ $have == "true $EDGE_SUBNET" ]] ||
		cs_die "network $EDGE_NETWORK exists as '$have' (internal, subnet), want 'true $EDGE_SUBNET'. Fix EDGE_SUBNET, or stop everything on it and remove it (docker network rm $EDGE_NETWORK) so that it is created again."
	cs_log "$EDGE_NETWORK ready: internal, $EDGE_SUBNET, nginx at $EDGE_NGINX_IP"
else
	docker network create --driver bridge --internal \
		--subnet "$EDGE_SUBNET" --ip-range "$ip_range" --gateway "$(int_ip "$gateway")" \
		--label org.course-supporter.network=edge "$EDGE_NETWORK" >/dev/null ||
		cs_die "docker network create $EDGE_NETWORK failed (does $EDGE_SUBNET overlap another network? set EDGE_SUBNET in $(cs_env_file))"
	cs_log "created $EDGE_NETWORK: internal, $EDGE_SUBNET (dynamic $ip_range), nginx at $EDGE_NGINX_IP"
fi

[[ -n $connect ]] || exit 0
if ! nets=$(docker inspect -f '{{if .State.Running}}{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}{{end}}' "$connect" 2>/dev/null) || [[ -z $nets ]]; then
	cs_log "$connect is not running: nothing to connect"
	exit 0
fi
if [[ " $nets " == *" $EDGE_NETWORK "* ]]; then
	exit 0
fi
docker network connect --ip "$EDGE_NGINX_IP" "$EDGE_NETWORK" "$connect" ||
	cs_die "could not connect $connect to $EDGE_NETWORK at $EDGE_NGINX_IP (is the address taken? docker network inspect $EDGE_NETWORK)"
cs_log "connected $connect to $EDGE_NETWORK at $EDGE_NGINX_IP"

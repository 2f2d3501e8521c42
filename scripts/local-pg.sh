#!/usr/bin/env bash
# Runs PostgreSQL 17 + pgvector from Debian packages inside a cached chroot,
# for machines without a Docker engine (tests and `make run`).
#
#   scripts/local-pg.sh start   [NAME] [PORT]   start (or reuse) a cluster; prints its DSN
#   scripts/local-pg.sh stop    [NAME]          stop it (fast shutdown)
#   scripts/local-pg.sh restart [NAME]          restart it (used by the pool-recovery test)
#   scripts/local-pg.sh url     [NAME] [PORT]   print the DSN without starting anything
#   scripts/local-pg.sh createdb NAME PORT DB   create database DB if it does not exist
#   scripts/local-pg.sh dropdb   NAME PORT DB   drop database DB if it exists
#   scripts/local-pg.sh mirror                  print the Debian mirror debootstrap would use
#
# Idempotent: the root file system is built once (debootstrap, ~40 s) and
# cached under $CS_CACHE_DIR (default /var/cache/course-supporter), outside
# the repository; an already running cluster is reused. Clusters listen on
# 127.0.0.1 only, on a non-default port, with a password, so nothing is
# reachable from outside the machine.
set -euo pipefail

CACHE="${CS_CACHE_DIR:-/var/cache/course-supporter}"
ROOT="$CACHE/rootfs"
APT_ETC="${CS_APT_ETC:-/etc/apt}" # tests point this at fixture files
PGBIN=/usr/lib/postgresql/17/bin
PASSWORD=postgres

cmd="${1:-start}"
name="${2:-test}"
port="${3:-55432}"
[[ "$name" =~ ^[a-z0-9-]+$ ]] || { echo "local-pg: bad cluster name '$name'" >&2; exit 2; }
data="/var/lib/cs-pg/$name"

log() { echo "local-pg: $*" >&2; }

# debian_mirror: CS_DEBIAN_MIRROR, else the first Debian archive in the
# machine's own apt sources (deb822 *.sources and one-line *.list files), so
# local mirrors and caching proxies (apt-cacher-ng URLs) are used; else
# deb.debian.org. An entry counts when one of its suites is a plain Debian
# release name: security and backports archives, Ubuntu and third-party
# repositories cannot serve debootstrap's trixie.
debian_mirror() {
	if [[ -n ${CS_DEBIAN_MIRROR:-} ]]; then
		echo "$CS_DEBIAN_MIRROR"
		return
	fi
	local suites='^(bullseye|bookworm|trixie|forky|duke|sid|oldstable|stable|testing|unstable)$'
	local f found=""
	for f in "$APT_ETC"/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		# deb822: blank-line separated stanzas; Types must include deb.
		found=$(awk -v re="$suites" '
			function flush() {
				if (!done && types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
					n = split(suites, s, " ")
					for (i = 1; i <= n; i++) if (s[i] ~ re) { split(uris, u, " "); print u[1]; done = 1; exit }
				}
				types = ""; uris = ""; suites = ""; enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{ key = tolower($1); sub(/^[^:]*:[ \t]*/, ""); val = $0 }
			key == "types:" { types = val } key == "uris:" { uris = val }
			key == "suites:" { suites = val } key == "enabled:" { enabled = tolower(val) }
			END { flush() }' "$f")
		[[ -n $found ]] && break
	done
	if [[ -z $found ]]; then
		for f in "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list; do
			[[ -f $f ]] || continue
			# deb [options] URI SUITE COMPONENT...
			found=$(sed -E 's/\[[^]]*\]//' "$f" | awk -v re="$suites" '$1 == "deb" && $3 ~ re { print $2; exit }')
			[[ -n $found ]] && break
		done
	fi
	echo "${found:-http://deb.debian.org/debian}"
}

# apt_proxy: the machine's Acquire::http::Proxy, if any (debootstrap reads
# http_proxy, not apt's configuration).
apt_proxy() {
	[[ -n ${http_proxy:-} ]] && return 0
	command -v apt-config >/dev/null || return 0
	local p
	p=$(apt-config dump 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -n 1)
	[[ -n $p && $p != DIRECT && $p != false ]] && export http_proxy=$p
	return 0
}

ensure_rootfs() {
	[[ -f "$ROOT/.complete" ]] && return 0
	mkdir -p "$CACHE"
	exec 9>"$CACHE/rootfs.lock"
	flock 9
	[[ -f "$ROOT/.complete" ]] && return 0
	command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
	[[ $(id -u) -eq 0 ]] || { log "building the chroot needs root"; exit 1; }
	local mirror
	mirror=$(debian_mirror)
	apt_proxy
	log "building PostgreSQL 17 root file system in $ROOT from $mirror${http_proxy:+ via $http_proxy} (once, ~1 min)"
	rm -rf "$ROOT.tmp"
	debootstrap --variant=minbase --include=postgresql-17,postgresql-17-pgvector \
		trixie "$ROOT.tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
		{ log "debootstrap failed, see $CACHE/debootstrap.log"; tail -5 "$CACHE/debootstrap.log" >&2; exit 1; }
	rm -rf "$ROOT"
	mv "$ROOT.tmp" "$ROOT"
	touch "$ROOT/.complete"
}

pg_ids() {
	uid=$(awk -F: '$1=="postgres"{print $3}' "$ROOT/etc/passwd")
	gid=$(awk -F: '$1=="postgres"{print $4}' "$ROOT/etc/passwd")
}

as_pg() { chroot --userspec="$uid:$gid" "$ROOT" env HOME=/var/lib/postgresql LANG=C.UTF-8 "$@"; }

dsn() { echo "postgres://postgres:$PASSWORD@127.0.0.1:$port/postgres?sslmode=disable"; }

running() { as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
	ensure_rootfs
	pg_ids
	exec 8>"$CACHE/cluster-$name.lock"
	flock 8
	if [[ ! -f "$ROOT$data/PG_VERSION" ]]; then
		mkdir -p "$ROOT$data"
		chown "$uid:$gid" "$ROOT$data"
		echo "$PASSWORD" >"$ROOT/tmp/pw-$name"
		chown "$uid:$gid" "$ROOT/tmp/pw-$name"
		as_pg "$PGBIN/initdb" -D "$data" -U postgres --pwfile="/tmp/pw-$name" \
			--auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
		rm -f "$ROOT/tmp/pw-$name"
		# mmap shared memory: the chroot has no /dev/shm mount.
		cat >>"$ROOT$data/postgresql.conf" <<-CONF
			listen_addresses = '127.0.0.1'
			port = $port
			unix_socket_directories = '/tmp'
			dynamic_shared_memory_type = mmap
			max_connections = 300
			shared_buffers = 128MB
		CONF
		if [[ "$name" != dev ]]; then
			# Test clusters trade durability for speed; the dev cluster keeps it.
			printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$ROOT$data/postgresql.conf"
		fi
	fi
	if ! running; then
		# The server must not inherit our lock or output descriptors: callers
		# wait for stdout to close, and the lock must end with this script.
		as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
			>"$CACHE/pg_ctl-$name.log" 2>&1 8>&- 9>&- </dev/null ||
			{ log "postgres did not start:"; tail -20 "$ROOT$data/server.log" >&2; exit 1; }
	fi
	dsn
}

case "$cmd" in
start) start ;;
url) dsn ;;
mirror) debian_mirror ;;
stop)
	pg_ids
	as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
	;;
createdb)
	pg_ids
	db="${4:?database name}"
	[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "bad database name '$db'"; exit 2; }
	if [[ -z "$(as_pg /usr/bin/psql -h /tmp -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" 2>/dev/null || true)" ]]; then
		as_pg /usr/bin/psql -h /tmp -p "$port" -U postgres -qc "CREATE DATABASE $db" >/dev/null
	fi
	;;
dropdb)
	pg_ids
	db="${4:?database name}"
	[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "bad database name '$db'"; exit 2; }
	as_pg /usr/bin/psql -h /tmp -p "$port" -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
	;;
restart)
	pg_ids
	as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -l "$data/server.log" restart \
		>"$CACHE/pg_ctl-$name.log" 2>&1 </dev/null
	;;
*)
	echo "usage: $0 start|stop|restart|url [NAME] [PORT]" >&2
	exit 2
	;;
esac

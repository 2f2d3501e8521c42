# shellcheck shell=bash
# Helpers for the infrastructure tests in infra/test/*.sh (sourced; bash).
#
# Every check prints exactly one line, "PASS <area>: <what>" or
# "FAIL <area>: <what>" (+ indented detail); scripts/test-infra.sh counts them.
# Each area works in its own temporary directory, uses random free loopback
# ports, and stops exactly the processes it started (by PID) on exit.
set -uo pipefail

# shellcheck disable=SC2034 # used by the area scripts that source this file
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
AREA="${AREA:?set AREA before sourcing lib.sh}"
T=$(mktemp -d "/tmp/cs-infra-$AREA.XXXXXX")
# nginx workers run as nobody and must reach the webroot and htpasswd in here.
chmod 755 "$T"
FAILS=0
BG_PIDS=()

pass() { echo "PASS $AREA: $1"; }
fail() {
	echo "FAIL $AREA: $1"
	if [[ -n "${2:-}" ]]; then printf '%s\n' "$2" | tail -n 15 | sed 's/^/    /'; fi
	FAILS=$((FAILS + 1))
}
# check WHAT CMD... : PASS when CMD exits 0, else FAIL with its output.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then pass "$what"; else fail "$what" "$out"; fi
}
# pycheck WHAT ARGS... <<'EOF' (a python program on stdin, given ARGS):
# PASS when it exits 0, else FAIL with its output.
pycheck() {
	local what=$1 out
	shift
	if out=$(python3 - "$@" 2>&1); then pass "$what"; else fail "$what" "$out"; fi
}
# check_eq WHAT WANT GOT
check_eq() {
	if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "want: $2"$'\n'"got:  $3"; fi
}

# bg NAME CMD... starts CMD in the background, output in $T/NAME.log, as
# the leader of a new process group: cleanup stops it together with every
# process it spawned (nginx workers, netdata's plugins), and nothing else.
bg() {
	local name=$1
	shift
	setsid "$@" >"$T/$name.log" 2>&1 &
	BG_PIDS+=($!)
}

cleanup() {
	local pid i
	for pid in "${BG_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
	for ((i = 0; i < 50; i++)); do
		pgrep -g "$(
			IFS=,
			echo "${BG_PIDS[*]:-0}"
		)" >/dev/null || break
		sleep 0.1
	done
	for pid in "${BG_PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
	for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	if [[ "${KEEP_TMP:-0}" == 1 || $FAILS -gt 0 ]]; then
		echo "    ($AREA: work files kept in $T)"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

# free_port prints a currently unused TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until TIMEOUT_SECONDS CMD... polls CMD every 0.2 s.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# names DIR prints the names of DIR's entries, sorted, on one line.
names() {
	local f found=()
	for f in "$1"/*; do [[ -e "$f" ]] && found+=("${f##*/}"); done
	echo "${found[*]}"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# make_ca DIR CN: a throw-away CA (ca.pem, ca.key) in DIR.
make_ca() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$2" -keyout "$1/ca.key" -out "$1/ca.pem" 2>/dev/null
}
# make_cert DIR NAME SAN...: key NAME.key and certificate NAME.pem signed by
# DIR's CA, for the given subjectAltName entries (DNS:x, IP:y).
make_cert() {
	local dir=$1 name=$2 san
	shift 2
	san=$(
		IFS=,
		echo "$*"
	)
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${1#*:}" \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
			-CAcreateserial -days 2 -out "$dir/$name.pem" \
			-extfile <(printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' "$san") 2>/dev/null
}

# start_dnsmasq PORT HOSTS_FILE: an authoritative resolver for *.test on
# 127.0.0.1:PORT that answers only from HOSTS_FILE (NXDOMAIN otherwise).
# SIGHUP re-reads the file.
start_dnsmasq() {
	bg dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--addn-hosts="$2" --local=/test/ --listen-address=127.0.0.1 --bind-interfaces \
		--port="$1" --user=root --pid-file= --log-facility="$T/dnsmasq-queries.log"
	# shellcheck disable=SC2034 # for the caller: kill -HUP re-reads the hosts file
	DNSMASQ_PID=${BG_PIDS[-1]}
}

# nginx_conf FILE CONFD: a minimal nginx.conf for the test instance; temp
# paths, pid and logs inside $T so nothing outside it is touched.
nginx_conf() {
	# nginx creates the leaf directories itself, owned by its worker user.
	mkdir -p "$T/nginx-tmp"
	cat >"$1" <<-EOF
		daemon off;
		worker_processes 1;
		pid $T/nginx.pid;
		error_log $T/nginx-error.log info;
		events { worker_connections 512; }
		http {
		    include /etc/nginx/mime.types;
		    client_body_temp_path $T/nginx-tmp/client_body;
		    proxy_temp_path $T/nginx-tmp/proxy;
		    fastcgi_temp_path $T/nginx-tmp/fastcgi;
		    uwsgi_temp_path $T/nginx-tmp/uwsgi;
		    scgi_temp_path $T/nginx-tmp/scgi;
		    include $2/*.conf;
		}
	EOF
}

finish() {
	exit $((FAILS > 0))
}

#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions are also called through wait_until and traps
# nginx edge tests: Debian's nginx runs the rendered templates from
# infra/nginx on loopback ports, with a throw-away CA, fake upstreams
# (fake_backend.py) and dnsmasq as the resolver, so that the app's name can be
# made to appear while nginx runs. testssl.sh checks the TLS setup.
AREA=nginx
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

DOMAIN=api.test.example
P80=$(free_port) P443=$(free_port) PDNS=$(free_port) PAPP=$(free_port) PND=$(free_port)
CA="$T/ca"
make_ca "$CA" "cs nginx test CA"
make_cert "$CA" server "DNS:$DOMAIN"
cat "$CA/server.pem" "$CA/ca.pem" >"$CA/fullchain.pem"
htpasswd -bcB "$T/htpasswd" admin 's3cret pass' 2>/dev/null
mkdir -p "$T/www/.well-known/acme-challenge" "$T/conf.d"
echo "token-content-42" >"$T/www/.well-known/acme-challenge/tok42"

# The production template, with loopback addresses and temp paths. valid=1s
# instead of 30s only so the "name appears" check takes one second.
render() {
	API_DOMAIN=${1:-$DOMAIN} CS_TEMPLATE_DIR="$REPO/infra/nginx/templates" CS_OUTPUT_DIR="$T/conf.d" \
		CS_SNIPPETS_DIR="$REPO/infra/nginx/snippets" \
		CS_HTTP_LISTEN="127.0.0.1:$P80" CS_HTTP_LISTEN_V6="[::1]:$P80" \
		CS_HTTPS_LISTEN="127.0.0.1:$P443" CS_HTTPS_LISTEN_V6="[::1]:$P443" \
		CS_TLS_CERT="${TLS_CERT:-$CA/fullchain.pem}" CS_TLS_KEY="$CA/server.key" \
		CS_RESOLVER="${RESOLVER:-127.0.0.1:$PDNS valid=1s ipv6=off}" \
		CS_APP_UPSTREAM="cs-app.test:$PAPP" CS_NETDATA_UPSTREAM="cs-netdata.test:$PND" \
		CS_ACME_WEBROOT="$T/www" CS_HTPASSWD_FILE="$T/htpasswd" \
		sh "$REPO/infra/nginx/render.sh"
}
NGINX=(nginx -c "$T/nginx.conf" -p "$T/" -e "$T/nginx-error.log")
nginx_conf "$T/nginx.conf" "$T/conf.d"

# --- configuration --------------------------------------------------------------
TLS_CERT="$T/absent.pem" render 2>/dev/null
check_eq "without a certificate only the HTTP server is rendered" "course-supporter-10-http.conf" "$(names "$T/conf.d")"
check "nginx -t passes with the HTTP-only configuration (fresh host, no certificate yet)" "${NGINX[@]}" -t
TLS_CERT="$T/absent.pem" CS_TLS=on render 2>/dev/null
check_eq "CS_TLS=on renders HTTPS without seeing the certificate (mode A renders on the host)" \
	"course-supporter-10-http.conf course-supporter-20-https.conf" "$(names "$T/conf.d")"
render 2>/dev/null
check_eq "with a certificate both servers are rendered" \
	"course-supporter-10-http.conf course-supporter-20-https.conf" "$(names "$T/conf.d")"
check "nginx -t passes with the full configuration" "${NGINX[@]}" -t
if (render 'x;}' >/dev/null 2>&1) || (RESOLVER='1.1.1.1; include /etc/passwd' render >/dev/null 2>&1); then
	fail "render.sh refuses values that would inject nginx syntax"
else
	pass "render.sh refuses values that would inject nginx syntax"
fi
render 2>/dev/null

# --- start: the app's name does not resolve yet -----------------------------------
echo "127.0.0.1 cs-netdata.test" >"$T/hosts"
start_dnsmasq "$PDNS" "$T/hosts"
bg app python3 "$REPO/infra/test/fake_backend.py" "$PAPP" app
bg netdata python3 "$REPO/infra/test/fake_backend.py" "$PND" netdata
bg nginx "${NGINX[@]}"
NGINX_PID=${BG_PIDS[-1]}
if ! { wait_until 10 port_open "$P443" && wait_until 10 port_open "$PAPP" && wait_until 10 port_open "$PND"; }; then
	fail "nginx and the fake upstreams start" "$(cat "$T/nginx.log" "$T/nginx-error.log" 2>/dev/null)"
fi

CURL=(curl -sS --max-time 60 --cacert "$CA/ca.pem" --resolve "$DOMAIN:$P443:127.0.0.1" --resolve "$DOMAIN:$P80:127.0.0.1")
H="https://$DOMAIN:$P443"
n=0
# req ARGS... : one request; headers in $T/h, body in $T/b, status in $CODE.
req() {
	n=$((n + 1))
	CODE=$("${CURL[@]}" -D "$T/h" -o "$T/b" -w '%{http_code}' "$@") || CODE="curl-error"
	cp "$T/h" "$T/h.$n" 2>/dev/null
}
hdr() { grep -i "^$1:" "$T/h" | head -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
hdr_count() { grep -ci "^$1:" "$T/h"; }
json() { python3 -c "import json,sys; d=json.load(open('$T/b')); print($1)" 2>/dev/null; }

# security_headers: the six headers from cs-security-headers.conf, exactly once each.
security_headers() {
	local problems="" name want got
	while IFS='|' read -r name want; do
		got=$(hdr "$name")
		if [[ "$want" == "<id>" ]]; then
			[[ "$got" =~ ^[A-Za-z0-9._-]{1,128}$ ]] || problems+="$name='$got' "
		elif [[ "$got" != "$want" ]]; then
			problems+="$name='$got' "
		fi
		[[ $(hdr_count "$name") -le 1 ]] || problems+="$name-sent-twice "
	done <<-'EOF'
		Strict-Transport-Security|max-age=31536000; includeSubDomains
		X-Content-Type-Options|nosniff
		X-Frame-Options|DENY
		Referrer-Policy|strict-origin-when-cross-origin
		Permissions-Policy|camera=(), microphone=(), geolocation=()
		X-Request-ID|<id>
	EOF
	[[ -z "$(hdr X-XSS-Protection)" ]] || problems+="X-XSS-Protection-present "
	[[ -z "$problems" ]] || {
		echo "$problems"
		return 1
	}
}
check_headers() { # check_headers WHAT
	local out
	if out=$(security_headers); then pass "security headers on $1"; else fail "security headers on $1" "$out"; fi
}

# testssl.sh takes ~20 s: run it now, alongside the HTTP checks.
bg testssl testssl --quiet --color 0 --warnings batch -n none --ip 127.0.0.1 \
	--protocols --vulnerable --jsonfile "$T/testssl.json" "$DOMAIN:$P443"
TESTSSL_PID=${BG_PIDS[-1]}

req "$H/api/v1/nodes"
check_eq "nginx runs while the app's name does not resolve, and answers 502" 502 "$CODE"
check_eq "the 502 is JSON" '{"detail":"Service unavailable"}|application/json' "$(cat "$T/b")|$(hdr Content-Type)"
check_headers "a 502 generated by nginx"

echo "127.0.0.1 cs-app.test" >>"$T/hosts"
kill -HUP "$DNSMASQ_PID"
resolved() {
	req "$H/"
	[[ "$CODE" == 200 ]]
}
if wait_until 10 resolved; then
	pass "answers 200 once the app's name resolves (no restart, no reload)"
else
	fail "answers 200 once the app's name resolves (no restart, no reload)" "last status $CODE"
fi

# --- port 80 ------------------------------------------------------------------------
req "http://$DOMAIN:$P80/some/path?q=1"
check_eq "port 80 answers 301 to the same URL on https" "301 https://$DOMAIN/some/path?q=1" "$CODE $(hdr Location)"
req "http://$DOMAIN:$P80/.well-known/acme-challenge/tok42"
check_eq "port 80 serves the ACME challenge from the webroot, not redirected" "200 token-content-42" "$CODE $(cat "$T/b")"
req "http://$DOMAIN:$P80/.well-known/acme-challenge/unknown"
check_eq "an unknown ACME token is a 404, not a redirect" 404 "$CODE"
req "http://$DOMAIN:$P80/.cs-nginx-health"
check_eq "the container healthcheck path answers 200 on port 80" "200 ok" "$CODE $(cat "$T/b")"

# --- the proxied app --------------------------------------------------------------------
req -H 'X-API-Key: cs_live_0123456789abcdef0123456789abcdef' "$H/api/v1/nodes?limit=5"
check_eq "GET / reaches the app with path and query intact" "200 /api/v1/nodes?limit=5" "$CODE $(json 'd["path"]')"
check_headers "/ (proxied app response)"
check_eq "HTTP/2 is negotiated" 2 "$("${CURL[@]}" -o /dev/null -w '%{http_version}' "$H/")"
check_eq "server_tokens off: Server header without version" "nginx" "$(hdr Server)"
check_eq "upstream X-Powered-By is hidden and X-Frame-Options is the edge's DENY only" "|DENY|1" \
	"$(hdr X-Powered-By)|$(hdr X-Frame-Options)|$(hdr_count X-Frame-Options)"
rid=$(hdr X-Request-ID)
check_eq "the app receives Host, X-Real-IP, X-Forwarded-For, X-Forwarded-Proto, X-Request-ID" \
	"$DOMAIN|127.0.0.1|127.0.0.1|https|$rid" \
	"$(json '"|".join(d["headers"].get(k,"") for k in ["host","x-real-ip","x-forwarded-for","x-forwarded-proto","x-request-id"])')"
check_eq "upstream connection is HTTP/1.1 keep-alive (no Connection: close)" "" "$(json 'd["headers"].get("connection","")')"
if [[ "$rid" =~ ^[0-9a-f]{32}$ ]]; then pass "without X-Request-ID nginx generates one"; else fail "without X-Request-ID nginx generates one" "$rid"; fi
req -H 'X-Request-ID: client.Trace-42_a' "$H/"
check_eq "a well-formed X-Request-ID is kept, returned and forwarded" "client.Trace-42_a|client.Trace-42_a" \
	"$(hdr X-Request-ID)|$(json 'd["headers"]["x-request-id"]')"
req -H 'X-Request-ID: bad id <script>' "$H/"
bad=$(hdr X-Request-ID)
if [[ "$bad" =~ ^[0-9a-f]{32}$ && "$(json 'd["headers"]["x-request-id"]')" == "$bad" ]]; then
	pass "a malformed X-Request-ID is replaced by a generated one"
else
	fail "a malformed X-Request-ID is replaced by a generated one" "$bad"
fi

req "$H/missing/thing"
check_eq "an app 404 passes through unchanged" "404 app" "$CODE $(json 'd["backend"]')"
check_headers "a 404"
req "$H/status/503"
check_eq "an app 503 passes through with the app's body (proxy_intercept_errors off)" "503 app" "$CODE $(json 'd["backend"]')"

# --- /netdata/ ----------------------------------------------------------------------------
req "$H/netdata/api/v1/info"
check_eq "/netdata/ requires basic auth" 401 "$CODE"
check_headers "a 401 from /netdata/"
req -u 'admin:wrong' "$H/netdata/api/v1/info"
check_eq "/netdata/ rejects a wrong password" 401 "$CODE"
req -u 'admin:s3cret pass' "$H/netdata/api/v1/info"
check_eq "/netdata/api/v1/info reaches Netdata as /api/v1/info" "200 netdata /api/v1/info" \
	"$CODE $(json 'd["backend"]') $(json 'd["path"]')"
check_headers "/netdata/"
req -u 'admin:s3cret pass' "$H/netdata/api/v1/data?chart=system.cpu&after=-60"
check_eq "sub-paths and query strings pass through" "/api/v1/data?chart=system.cpu&after=-60" "$(json 'd["path"]')"
req -u 'admin:s3cret pass' "$H/netdata/"
check_eq "/netdata/ reaches Netdata's root" "200 /" "$CODE $(json 'd["path"]')"
req "$H/netdata"
check_eq "/netdata redirects to /netdata/" "301 $H/netdata/" "$CODE $(hdr Location)"

# --- bodies -------------------------------------------------------------------------------
req -X POST -H 'Content-Length: 1073741825' --data-binary x "$H/api/v1/upload"
check_eq "a body over 1 GiB gets 413 as JSON" '413 {"detail":"Request body too large"}' "$CODE $(cat "$T/b")"
check_headers "a 413"

# 200 MB with a 2 s pause in the middle. Streamed, the app starts reading at
# once and its read spans the pause; buffered, nginx would write the body to
# client_body_temp and pass it on only when complete. nginx unlinks its temp
# files right after creating them, so the watcher looks for open file
# descriptors of the nginx workers that point into client_body_temp.
MB200=209715200
open_temp_files() {
	local worker
	for worker in $(pgrep -P "$NGINX_PID"); do
		find "/proc/$worker/fd" -lname "$T/nginx-tmp/client_body/*" 2>/dev/null
	done
}
upload() { # upload CURL_VERSION_FLAG
	rm -f "$T/temp-seen"
	(
		sleep 1.5
		open_temp_files >"$T/temp-seen"
		sleep 1
		open_temp_files >>"$T/temp-seen"
	) &
	local watcher=$!
	{
		head -c $((MB200 / 2)) /dev/zero
		sleep 2
		head -c $((MB200 / 2)) /dev/zero
	} | "${CURL[@]}" "$1" -T - -X POST -o "$T/b" -w '%{http_code}' "$H/api/v1/upload" >"$T/upload-code"
	wait "$watcher"
}
sha200=$(head -c $MB200 /dev/zero | sha256sum | cut -d' ' -f1)
for proto in --http2 --http1.1; do
	upload "$proto"
	check_eq "200 MB upload ($proto) arrives complete at the app" "200 $MB200 $sha200" \
		"$(cat "$T/upload-code") $(json 'd["body_bytes"]') $(json 'd["body_sha256"]')"
	read_s=$(json 'round(d["read_seconds"], 2)')
	first=$(json 'round(d["first_byte_after"], 2)')
	if python3 -c "import sys; sys.exit(0 if $read_s >= 1.8 and $first < 1 else 1)" 2>/dev/null; then
		pass "200 MB upload ($proto) is streamed: the app reads during the client's pause (${read_s}s)"
	else
		fail "200 MB upload ($proto) is streamed: the app reads during the client's pause" "read ${read_s}s, first byte after ${first}s"
	fi
	check_eq "200 MB upload ($proto): no nginx worker holds a client_body_temp file" "" "$(cat "$T/temp-seen")"
done
check_eq "nginx never buffered a request body to a temporary file" 0 "$(grep -c 'buffered to a temporary file' "$T/nginx-error.log")"

# --- access log -----------------------------------------------------------------------------
pycheck "access log is one JSON object per request with request_id, status and timings" "$T/nginx.log" <<-'EOF'
	import json, sys
	lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
	assert len(lines) > 20, len(lines)
	want = {"request_id", "status", "request_time", "upstream_response_time", "method", "uri"}
	assert all(want <= set(l) for l in lines), "missing fields"
	assert any(l["request_id"] == "client.Trace-42_a" for l in lines), "request id not logged"
EOF
check_eq "the X-API-Key value never reaches the access log" 0 "$(grep -c 'cs_live_0123456789abcdef' "$T/nginx.log")"


# --- rate limit (last: it drains the per-address budget) ------------------------------------
# One curl, 150 requests on one connection: faster than the 20 r/s refill.
# The last request is a separate operation (`next`) so that its headers and
# body are kept: by then the budget is spent, so it must be a 429.
{
	printf 'cacert = "%s"\nresolve = "%s:%s:127.0.0.1"\nwrite-out = "%%{http_code}\\n"\n' "$CA/ca.pem" "$DOMAIN" "$P443"
	for i in $(seq 149); do printf 'url = "%s/r%d"\noutput = "/dev/null"\n' "$H" "$i"; done
	printf 'next\ncacert = "%s"\nresolve = "%s:%s:127.0.0.1"\nwrite-out = "%%{http_code}\\n"\n' "$CA/ca.pem" "$DOMAIN" "$P443"
	printf 'url = "%s/r150"\noutput = "%s/burst.body"\ndump-header = "%s/burst.h"\n' "$H" "$T" "$T"
} >"$T/burst.cfg"
codes=$(curl -sS -K "$T/burst.cfg" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
ok=$(grep -o '200=[0-9]*' <<<"$codes" | cut -d= -f2)
limited=$(grep -o '429=[0-9]*' <<<"$codes" | cut -d= -f2)
if [[ ${ok:-0} -ge 95 && ${ok:-0} -le 135 && ${limited:-0} -ge 15 && $((ok + limited)) == 150 ]]; then
	pass "limit_req: a burst of 150 gets ~100 through and 429 beyond it ($codes)"
else
	fail "limit_req: a burst of 150 gets ~100 through and 429 beyond it" "$codes"
fi
cp "$T/burst.h" "$T/h"
check_eq "a 429 is JSON with Retry-After: 1" '429 {"detail":"Rate limit exceeded"} 1' \
	"$(head -n 1 "$T/h" | cut -d' ' -f2) $(cat "$T/burst.body") $(hdr Retry-After)"
check_headers "a 429"

# --- testssl.sh ---------------------------------------------------------------------------------
wait "$TESTSSL_PID"
pycheck "testssl.sh: no vulnerable finding, TLS 1.2/1.3 only (SSLv2/3, TLS 1.0/1.1 not offered)" "$T/testssl.json" <<-'EOF'
	import json, sys
	findings = {f["id"]: f for f in json.load(open(sys.argv[1]))}
	problems = []
	for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
	    if findings.get(proto, {}).get("finding") != "not offered":
	        problems.append(f"{proto}: {findings.get(proto)}")
	for proto in ("TLS1_2", "TLS1_3"):
	    if not findings.get(proto, {}).get("finding", "").startswith("offered"):
	        problems.append(f"{proto}: {findings.get(proto)}")
	for vuln in ("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego",
	             "CRIME_TLS", "BREACH", "POODLE_SSL", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4"):
	    if vuln not in findings:
	        problems.append(f"{vuln}: not tested")
	for f in findings.values():
	    if f["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL") or "VULNERABLE" in f["finding"].upper().replace("NOT VULNERABLE", ""):
	        problems.append(f'{f["id"]}: {f["severity"]} {f["finding"]}')
	    if f["severity"] == "WARN" and f["id"] != "engine_problem":
	        problems.append(f'{f["id"]}: scan problem: {f["finding"]}')
	print("\n".join(problems))
	sys.exit(1 if problems else 0)
EOF

finish

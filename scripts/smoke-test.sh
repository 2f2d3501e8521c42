#!/usr/bin/env bash
# Smoke test of a running Course Supporter (docs/operations/deploy.md).
#
#   SMOKE_TEST_API_KEY=cs_… scripts/smoke-test.sh BASE_URL
#
# BASE_URL is e.g. https://api.example.com or http://127.0.0.1:8000. The key
# (a `prep` key of a smoke tenant) is read from the environment only: it is
# handed to curl through a config on stdin, so it never appears in a command
# line (ps, /proc, shell history, CI logs).
#
# Checks: /health is 200 with every check "ok"; /livez 200; security headers,
# and for https URLs HSTS and http:// → 301; X-Request-ID is echoed; without a
# key 401, with a malformed key 401; with the key: list, create, read and
# delete a node (the node is deleted even when a later check fails);
# /openapi.json is JSON and /docs answers.
#
# Needs curl and python3 (for JSON). Ends with "N passed, M failed" and exits
# non-zero if any check failed.
set -euo pipefail

base=${1:-}
if [[ -z $base || $# -ne 1 ]]; then
	echo "usage: SMOKE_TEST_API_KEY=… $0 BASE_URL" >&2
	exit 2
fi
base=${base%/}
key=${SMOKE_TEST_API_KEY:-}
[[ -n $key ]] || { echo "smoke: SMOKE_TEST_API_KEY is not set" >&2; exit 2; }
command -v python3 >/dev/null || { echo "smoke: python3 is required" >&2; exit 2; }

tmp=$(mktemp -d)
node_id=""
passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok   $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL $*"
}

# req AUTH METHOD PATH [JSON_BODY] [EXTRA_HEADER]: one request. AUTH is key,
# badkey or none. Sets $code; the body is in $tmp/body, headers in $tmp/headers.
req() {
	local auth=$1 method=$2 path=$3 data=${4:-} extra=${5:-}
	local -a args=(-sS -X "$method" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}'
		--max-time 20 -K -)
	[[ -n $data ]] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	[[ -n $extra ]] && args+=(-H "$extra")
	local config=""
	case $auth in
	key) config="header = \"X-API-Key: $key\"" ;;
	badkey) config='header = "X-API-Key: cs_live_not-a-real-key"' ;;
	esac
	# The config on stdin carries the key; printf is a builtin (no argv).
	code=$(printf '%s\n' "$config" | curl "${args[@]}" "$base$path" 2>"$tmp/err") || code=000
	if [[ $code == 000 ]]; then
		: >"$tmp/body"
		: >"$tmp/headers"
		echo "     ($method $path: $(tr '\n' ' ' <"$tmp/err"))"
	fi
}

# header NAME: the value of a response header (last one, CR stripped).
header() {
	awk -v n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
		{ sub(/\r$/, "") }
		index(tolower($0), n ":") == 1 { v = substr($0, length(n) + 2); sub(/^[ \t]+/, "", v) }
		END { print v }' "$tmp/headers"
}

# json EXPR: evaluates a Python expression over the parsed body `d`; prints
# the result, exits non-zero when the body is not JSON or the expression fails.
json() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2], {"d": d})
print(r if not isinstance(r, bool) else ("true" if r else "false"))' "$tmp/body" "$1" 2>/dev/null
}

body() { head -c 300 "$tmp/body"; }

cleanup() {
	if [[ -n $node_id ]]; then
		req key DELETE "/api/v1/nodes/$node_id"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "smoke: $base"

# --- public endpoints ---------------------------------------------------------
rid="smoke-$(date +%s)-$RANDOM"
req none GET /health "" "X-Request-ID: $rid"
if [[ $code == 200 && $(json 'd["status"] == "ok" and all(v == "ok" for v in d.get("checks", {}).values())') == true ]]; then
	ok "/health 200, status ok, checks: $(json '",".join(f"{k}={v}" for k, v in sorted(d.get("checks", {}).items()))')"
else
	bad "/health: $code $(body)"
fi
if [[ $(header X-Request-ID) == "$rid" ]]; then ok "X-Request-ID echoed"; else
	bad "X-Request-ID: got '$(header X-Request-ID)', want '$rid'"; fi
if [[ $(header X-Content-Type-Options) == nosniff ]]; then ok "X-Content-Type-Options: nosniff"; else
	bad "X-Content-Type-Options: '$(header X-Content-Type-Options)'"; fi
if [[ $(header X-Frame-Options) == DENY ]]; then ok "X-Frame-Options: DENY"; else
	bad "X-Frame-Options: '$(header X-Frame-Options)'"; fi
if [[ $base == https://* ]]; then
	hsts=$(header Strict-Transport-Security)
	if [[ $hsts =~ max-age=([0-9]+) && ${BASH_REMATCH[1]} -ge 31536000 ]]; then ok "Strict-Transport-Security: $hsts"; else
		bad "Strict-Transport-Security: '$hsts' (want max-age of at least one year)"; fi
	plain="http://${base#https://}"
	redirect=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 20 "$plain/health" 2>/dev/null) || redirect=000
	if [[ $redirect == "301 https://"* ]]; then ok "http:// → $redirect"; else
		bad "http:// answered '$redirect', want 301 to https"; fi
else
	echo "     (plain http URL: HSTS and the http → https redirect are not checked)"
fi

req none GET /livez
if [[ $code == 200 ]]; then ok "/livez 200"; else bad "/livez: $code $(body)"; fi

req none GET /openapi.json
if [[ $code == 200 && $(json '"openapi" in d and "/api/v1/nodes" in d["paths"]') == true ]]; then
	ok "/openapi.json is an OpenAPI document"
else
	bad "/openapi.json: $code $(body)"
fi

req none GET /docs
if [[ $code == 200 ]]; then ok "/docs 200"; else bad "/docs: $code"; fi

# --- authentication -------------------------------------------------------------
req none GET /api/v1/nodes
if [[ $code == 401 && $(json 'd["detail"]') == "Not authenticated" ]]; then ok "no key: 401 Not authenticated"; else
	bad "no key: $code $(body)"; fi
req badkey GET /api/v1/nodes
if [[ $code == 401 && $(json 'd["detail"]') == "Invalid API key" ]]; then ok "malformed key: 401 Invalid API key"; else
	bad "malformed key: $code $(body)"; fi

# --- a node: list, create, read, delete -----------------------------------------
req key GET "/api/v1/nodes?limit=1"
if [[ $code == 200 && $(json 'isinstance(d["items"], (list, type(None))) and isinstance(d["total"], int)') == true ]]; then
	ok "with key: list nodes 200"
else
	bad "list nodes: $code $(body)"
fi

title="smoke test $(date -u +%Y-%m-%dT%H:%M:%SZ)"
req key POST /api/v1/nodes "{\"title\": \"$title\", \"description\": \"created and deleted by scripts/smoke-test.sh\"}"
if [[ $code == 201 ]] && node_id=$(json 'd["id"]') && [[ -n $node_id ]]; then
	ok "create node: 201 $node_id"
else
	node_id=""
	bad "create node: $code $(body)"
fi

if [[ -n $node_id ]]; then
	req key GET "/api/v1/nodes/$node_id"
	if [[ $code == 200 && $(json 'd["id"]') == "$node_id" && $(json 'd["title"]') == "$title" ]]; then
		ok "read node: 200, same id and title"
	else
		bad "read node: $code $(body)"
	fi

	req key DELETE "/api/v1/nodes/$node_id"
	if [[ $code == 204 ]]; then
		ok "delete node: 204"
		gone=$node_id
		node_id=""
		req key GET "/api/v1/nodes/$gone"
		if [[ $code == 404 ]]; then ok "deleted node: 404"; else bad "deleted node: $code $(body)"; fi
	else
		bad "delete node: $code $(body)"
	fi
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

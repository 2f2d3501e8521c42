#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions are also called through wait_until and traps
# Netdata tests: Debian's netdata (1.37) runs with a temporary configuration
# whose health directory IS infra/netdata/health.d, and its alarms API is
# read back. Debian ships no go.d plugin, so fake_god.plugin creates charts
# shaped like go.d's httpcheck, x509check and prometheus charts, with values
# chosen to put each alarm in a known state. netdata runs under faketime at
# 60x speed so that the 5-, 15- and 30-minute lookups have full windows within
# seconds. Notifications go through Netdata's real alarm-notify.sh with our
# health_alarm_notify.conf; a stand-in curl records what would be sent to
# Telegram.
AREA=netdata
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=$(free_port)
TOKEN="123456789:TEST-token_from-environment"
CHAT="-1001234567890"
mkdir -p "$T/etc" "$T/log" "$T/cache" "$T/lib" "$T/plugins.d" "$T/bin"
cp "$REPO/infra/netdata/health_alarm_notify.conf" "$T/etc/"
cp "$REPO/infra/test/fake_god.plugin" "$T/plugins.d/"
cat >"$T/bin/curl" <<EOF
#!/bin/sh
# Stand-in for curl in alarm-notify.sh: record the call on one line, answer
# HTTP 200.
printf '%s ' "\$@" | tr '\n' ' ' >>"$T/telegram-calls"
echo >>"$T/telegram-calls"
printf 200
EOF
chmod +x "$T/bin/curl"

cat >"$T/etc/netdata.conf" <<EOF
[global]
	run as user = root
	hostname = cs-test
[db]
	mode = ram
	update every = 1
[directories]
	config = $T/etc
	stock config = /usr/lib/netdata/conf.d
	log = $T/log
	cache = $T/cache
	lib = $T/lib
	plugins = "$T/plugins.d" "/usr/lib/netdata/plugins.d"
	# The files under test, in place.
	health config = $REPO/infra/netdata/health.d
	stock health config = /usr/lib/netdata/conf.d/health.d
[logs]
	debug log = none
	error log = $T/log/error.log
	access log = none
[web]
	bind to = 127.0.0.1:$PORT
[plugins]
	enable running new plugins = no
	fake_god = yes
	proc = yes
	diskspace = yes
	apps = no
	charts.d = no
	python.d = no
	go.d = no
	ebpf = no
	cgroups = no
	tc = no
	idlejitter = no
	perf = no
	slabinfo = no
	fping = no
	ioping = no
	nfacct = no
	cups = no
	statsd = no
	timex = no
[ml]
	enabled = no
[health]
	enabled = yes
	run at least every seconds = 1
	script to execute on alarm = /usr/lib/netdata/plugins.d/alarm-notify.sh
EOF

# --- alarm-notify.sh test (the runbook's Telegram check) ------------------------------
notify_env=(env PATH="$T/bin:$PATH" NETDATA_USER_CONFIG_DIR="$T/etc" NETDATA_STOCK_CONFIG_DIR=/usr/lib/netdata/conf.d
	NETDATA_CACHE_DIR="$T/cache")
"${notify_env[@]}" NETDATA_TELEGRAM_BOT_TOKEN="$TOKEN" NETDATA_TELEGRAM_CHAT_ID="$CHAT" \
	/usr/lib/netdata/plugins.d/alarm-notify.sh test sysadmin >"$T/notify-test.log" 2>&1
url="https://api.telegram.org/bot$TOKEN/sendMessage?chat_id=$CHAT"
check_eq "alarm-notify.sh test sends WARNING, CRITICAL and CLEAR to Telegram with the token and chat id from the environment" \
	3 "$(grep -cF "$url" "$T/telegram-calls" 2>/dev/null || echo 0)"
rm -f "$T/telegram-calls"
"${notify_env[@]}" NETDATA_TELEGRAM_BOT_TOKEN= NETDATA_TELEGRAM_CHAT_ID= \
	/usr/lib/netdata/plugins.d/alarm-notify.sh test sysadmin >"$T/notify-test-empty.log" 2>&1
check_eq "without the environment variables nothing is sent (no token is committed)" 0 \
	"$(grep -c telegram "$T/telegram-calls" 2>/dev/null || echo 0)"
secrets=$(grep -rEn '[0-9]{8,10}:[A-Za-z0-9_-]{30,}' "$REPO/infra/netdata" "$REPO/.env.prod.example" 2>/dev/null)
check_eq "no Telegram bot token is committed under infra/netdata or in .env.prod.example" "" "$secrets"

# --- netdata with the alarms -------------------------------------------------------------------
# libfaketime preloaded directly (not through the faketime wrapper, which
# would stand between the test and netdata's PID); MT: netdata is threaded.
FAKETIME_LIB=$(dpkg -L libfaketime | grep -m1 '/libfaketimeMT\.so\.1$')
bg netdata env DO_NOT_TRACK=1 PATH="$T/bin:$PATH" NETDATA_TELEGRAM_BOT_TOKEN="$TOKEN" NETDATA_TELEGRAM_CHAT_ID="$CHAT" \
	LD_PRELOAD="$FAKETIME_LIB" FAKETIME="+0 x60" netdata -D -c "$T/etc/netdata.conf"
alarms() { curl -sS --max-time 5 "http://127.0.0.1:$PORT/api/v1/alarms?all" -o "$T/alarms.json"; }
wait_until 30 alarms || fail "netdata starts and serves its API" "$(tail -n 20 "$T/log/error.log" 2>/dev/null)"

# alarm -> expected status, keyed by chart.alarm as the API names them.
expected=(
	"httpcheck_down.request_status.cs_app_health_down=CRITICAL"
	"httpcheck_up.request_status.cs_app_health_down=CLEAR"
	"x509check_warn.cert_depth0_time_until_expiration.cs_tls_certificate_expiry=WARNING"
	"x509check_crit.cert_depth0_time_until_expiration.cs_tls_certificate_expiry=CRITICAL"
	"x509check_ok.cert_depth0_time_until_expiration.cs_tls_certificate_expiry=CLEAR"
	"prometheus_cs_app_5xx.route_bad.cs_http_5xx_rate=WARNING"
	"prometheus_cs_app_5xx.route_fine.cs_http_5xx_rate=CLEAR"
	"prometheus_cs_failed.ingest.cs_jobs_failed=CRITICAL"
	"prometheus_cs_failed.transcribe.cs_jobs_failed=WARNING"
	"prometheus_cs_failed.cleanup.cs_jobs_failed=CLEAR"
	"prometheus_cs_app.queued_ingest.cs_jobs_backlog=WARNING"
	"prometheus_cs_app.queued_cleanup.cs_jobs_backlog=CLEAR"
	"prometheus_cs_worker.heartbeat.cs_worker_heartbeat_stale=CRITICAL"
	"prometheus_cs_app.heartbeat.cs_worker_heartbeat_stale=CLEAR"
)
statuses() {
	python3 - "$T/alarms.json" <<-'EOF'
		import json, sys
		for key, a in sorted(json.load(open(sys.argv[1]))["alarms"].items()):
		    print(f'{key}={a["status"]}')
	EOF
}
settled() {
	alarms || return 1
	local got e
	got=$(statuses)
	for e in "${expected[@]}"; do grep -qxF "$e" <<<"$got" || return 1; done
}
# Lookups wait until their whole window holds data: 30 simulated minutes
# for the backlog alarm, 30 s of real time at 60x.
wait_until 90 settled
got=$(statuses)
for e in "${expected[@]}"; do
	check_eq "alarm ${e%=*}" "${e##*=}" "$(grep -F "${e%=*}=" <<<"$got" | head -n 1 | cut -d= -f2)"
done

pycheck "disk and RAM alarms are evaluated on every disk.space chart and on system.ram, status consistent with 80/90 and 85/95" "$T/alarms.json" <<-'EOF'
	import json, sys
	alarms = json.load(open(sys.argv[1]))["alarms"].values()
	def expect(a, warn, crit):
	    v = a["value"]
	    want = "CRITICAL" if v > crit else "WARNING" if v > warn else "CLEAR"
	    assert a["status"] == want, f'{a["chart"]}.{a["name"]}: value {v} status {a["status"]}, want {want}'
	disks = [a for a in alarms if a["name"] == "cs_disk_space_usage"]
	ram = [a for a in alarms if a["name"] == "cs_ram_usage"]
	assert disks and len(ram) == 1, (len(disks), len(ram))
	assert all(a["chart"].startswith("disk_space.") for a in disks)
	assert ram[0]["chart"] == "system.ram"
	for a in disks: expect(a, 80, 90)
	for a in ram: expect(a, 85, 95)
	print(len(disks), "disks")
EOF
pycheck "thresholds and lookups are parsed as written (5xx x60 per min over 5m, failed x900 over 15m, backlog min over 30m)" "$T/alarms.json" <<-'EOF'
	import html, json, sys
	alarms = {a["name"]: a for a in json.load(open(sys.argv[1]))["alarms"].values()}
	checks = {
	    "cs_http_5xx_rate": ("average", -300, "$this * 60", "$this > 1", None),
	    "cs_jobs_failed": ("average", -900, "$this * 900", "$this > 0", "$this > 5"),
	    "cs_jobs_backlog": ("min", -1800, None, "$this > 50", None),
	    "cs_worker_heartbeat_stale": ("max", -60, None, None, "$this > 120"),
	    "cs_app_health_down": ("average", -120, None, None, "$this < 1"),
	    "cs_disk_space_usage": ("average", -60, None, "$this > 80", "$this > 90"),
	    "cs_ram_usage": ("average", -60, None, "$this > 85", "$this > 95"),
	}
	problems = []
	for name, (method, after, calc, warn, crit) in checks.items():
	    a = alarms[name]
	    # The API HTML-escapes expressions (&gt;).
	    got = tuple(html.unescape(v) if isinstance(v, str) else v for v in
	                (a.get("lookup_method"), a.get("lookup_after"), a.get("calc"), a.get("warn"), a.get("crit")))
	    if got != (method, after, calc, warn, crit):
	        problems.append(f"{name}: {got}")
	assert not problems, problems
EOF
check_eq "our x509check.conf replaces the stock one (stock expiry alarm absent)" 0 \
	"$(grep -c '"x509check_days_until_expiration"' "$T/alarms.json")"
check_eq "netdata reports no error in our health files" "" \
	"$(grep -F "$REPO/infra/netdata/health.d" "$T/log/error.log" | grep -iE 'error|unknown|failed' | head -n 5)"
# alarm-notify.sh puts the alarm name, underscores as spaces, in the text.
sent() { grep -F "$url" "$T/telegram-calls" 2>/dev/null | grep -c "$1"; }
heartbeat_sent() { [[ $(sent 'cs worker heartbeat stale') -ge 1 ]]; }
wait_until 20 heartbeat_sent
check "a raised alarm (worker heartbeat, CRITICAL) is sent to Telegram by netdata" heartbeat_sent
check_eq "alarms that stay CLEAR send nothing" 0 "$(sent 'cs ram usage')"

finish

#!/usr/bin/env bash
# The infrastructure tests (`make test-infra`): real programs on loopback
# ports, each area in its own temporary directory.
#
#   compose  compose-go contract tests (app/internal/deploytest)
#   nginx    Debian's nginx with the infra/nginx templates, dnsmasq, testssl.sh
#   certbot  certbot against pebble through that nginx; renewal; timers
#   netdata  Debian's netdata loading infra/netdata/health.d; Telegram
#   backup   backup/restore/retention against PostgreSQL 17 + versitygw
#   pgdrill  dump/restore between two clusters (scripts/pg-dump-restore.sh)
#
#   scripts/test-infra.sh [AREA...]    (default: all, in the order above)
#
# Every check prints one PASS or FAIL line; the last line is the total,
# "N passed, M failed". Exits non-zero if anything failed. Needs root and
# the packages from scripts/ci-infra-deps.sh. KEEP_TMP=1 keeps work files.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
start=$SECONDS

areas=("$@")
((${#areas[@]})) || areas=(compose nginx certbot netdata backup pgdrill)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for area in "${areas[@]}"; do
	area_start=$SECONDS
	case "$area" in
	compose)
		# One PASS/FAIL line per Go test, like the shell areas.
		go test -count=1 -v ./app/internal/deploytest/ 2>&1 |
			sed -n 's/^--- PASS: \([^ ]*\).*/PASS compose: \1/p; s/^--- FAIL: \([^ ]*\).*/FAIL compose: \1/p; /^\s*[a-z_]*_test\.go:[0-9]*:/p; /^FAIL\s.*\[build failed\]/p; /cannot\|undefined/p' |
			tee -a "$log"
		rc=${PIPESTATUS[0]}
		;;
	nginx | certbot | netdata | backup | pgdrill)
		"infra/test/$area.sh" 2>&1 | tee -a "$log"
		rc=${PIPESTATUS[0]}
		;;
	*)
		echo "FAIL $area: unknown area (compose nginx certbot netdata backup pgdrill)" | tee -a "$log"
		continue
		;;
	esac
	# A crash after the last check must not pass silently.
	if [[ $rc != 0 ]] && ! grep -q "^FAIL $area:" "$log"; then
		echo "FAIL $area: exited with status $rc" | tee -a "$log"
	fi
	echo "    ($area: $((SECONDS - area_start)) s)"
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo "infra tests finished in $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]

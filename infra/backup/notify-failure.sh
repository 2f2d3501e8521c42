#!/usr/bin/env bash
# notify-failure.sh UNIT: posts "UNIT failed on HOST" and the unit's last log
# lines to the Telegram chat that Netdata alarms go to (same bot, same chat:
# NETDATA_TELEGRAM_BOT_TOKEN and NETDATA_TELEGRAM_CHAT_ID from .env.prod).
# Run by course-supporter-notify-failure@.service. Exits non-zero when the
# message could not be sent, so that at least the journal shows it.
set -euo pipefail
CS_PROJECT_DIR="$(cd "$(dirname "$0")/../.." && pwd)"
CS_LOG_TAG=notify-failure
# shellcheck source=../lib/common.sh
source "$CS_PROJECT_DIR/infra/lib/common.sh"
cs_load NETDATA_TELEGRAM_BOT_TOKEN NETDATA_TELEGRAM_CHAT_ID
cs_require NETDATA_TELEGRAM_BOT_TOKEN NETDATA_TELEGRAM_CHAT_ID

unit="${1:?usage: $0 UNIT}"
: "${TELEGRAM_API:=https://api.telegram.org}"
logs=$(journalctl -u "$unit" -n 15 --no-pager -o cat 2>/dev/null || true)
text=$(printf '🔴 %s failed on %s\n\n%s' "$unit" "$(hostname)" "${logs:-(no journal lines)}")

# The token goes in a curl config on stdin, never on the command line where
# `ps` would show it to every user of the host.
code=$(printf 'url = "%s/bot%s/sendMessage"\n' "$TELEGRAM_API" "$NETDATA_TELEGRAM_BOT_TOKEN" |
	curl -sS -K - --max-time 20 -o /dev/null -w '%{http_code}' \
		--data-urlencode "chat_id=$NETDATA_TELEGRAM_CHAT_ID" \
		--data-urlencode "text=${text:0:4000}")
[[ "$code" == 200 ]] || cs_die "Telegram answered HTTP $code"
cs_log "reported the failure of $unit"

#!/usr/bin/env bash
# Daily database backup, run at 02:30 by infra/backup/course-supporter-backup.timer.
#
#   1. pg_dump -Fc of the app database to $BACKUP_LOCAL_DIR/cs-<UTC>.dump (0600)
#   2. validate it with pg_restore --list
#   3. encrypt it to BACKUP_AGE_RECIPIENT when set (age)
#   4. upload to s3://$BACKUP_S3_BUCKET/$BACKUP_S3_PREFIX/daily/; on Sundays
#      also copy it to .../weekly/
#   5. retention: newest BACKUP_KEEP_DAILY (7) daily and BACKUP_KEEP_WEEKLY (4)
#      weekly objects remotely, newest BACKUP_KEEP_LOCAL (2) dumps locally
#
# Options: --retention-only (step 5 alone). BACKUP_NOW=<date> fixes the
# timestamp (tests; re-running a missed day). Any failure exits non-zero,
# which the timer's OnFailure= turns into a Telegram message. Configuration:
# infra/backup/lib.sh.
set -euo pipefail
CS_PROJECT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
export CS_LOG_TAG=backup
# shellcheck source=../infra/backup/lib.sh
source "$CS_PROJECT_DIR/infra/backup/lib.sh"

retention_only=0
case "${1:-}" in
--retention-only) retention_only=1 ;;
"") ;;
*) cs_die "usage: $0 [--retention-only]" ;;
esac

cs_require BACKUP_S3_BUCKET BACKUP_S3_ACCESS_KEY BACKUP_S3_SECRET_KEY
for n in "$BACKUP_KEEP_DAILY" "$BACKUP_KEEP_WEEKLY" "$BACKUP_KEEP_LOCAL"; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || cs_die "retention counts must be positive integers, got '$n'"
done

# prune KIND KEEP deletes all but the newest KEEP dumps under KIND/.
prune() {
	local kind=$1 keep=$2 name
	local -a names
	mapfile -t names < <(list_dumps "$kind")
	local excess=$((${#names[@]} - keep))
	cs_log "$kind: ${#names[@]} dumps, keeping the newest $keep"
	for ((i = 0; i < excess; i++)); do
		name=${names[i]}
		cs_log "$kind: deleting $name"
		aws_s3 s3 rm --only-show-errors "$(s3_url "$kind/$name")"
	done
}

prune_local() {
	local -a names
	mapfile -t names < <(find "$BACKUP_LOCAL_DIR" -maxdepth 1 -type f -name 'cs-*.dump' -printf '%f\n' |
		grep -E "$DUMP_RE" | LC_ALL=C sort)
	local excess=$((${#names[@]} - BACKUP_KEEP_LOCAL))
	for ((i = 0; i < excess; i++)); do
		cs_log "local: deleting ${names[i]}"
		rm -f "$BACKUP_LOCAL_DIR/${names[i]}"
	done
}

retention() {
	prune daily "$BACKUP_KEEP_DAILY"
	prune weekly "$BACKUP_KEEP_WEEKLY"
	prune_local
}

if [[ $retention_only == 1 ]]; then
	retention
	exit 0
fi

cs_require POSTGRES_USER POSTGRES_DB
now="${BACKUP_NOW:-now}"
stamp=$(date -u -d "$now" +%Y%m%dT%H%M%SZ)
weekday=$(date -u -d "$now" +%u) # 7 = Sunday
name="cs-$stamp.dump"
file="$BACKUP_LOCAL_DIR/$name"

umask 077
mkdir -p "$BACKUP_LOCAL_DIR"
trap 'rm -f "$file.partial" "$file.age"' EXIT
# Partial name until pg_dump has finished, so a crash never leaves a file
# that looks like a complete dump (or that local retention would prefer).
cs_log "dumping $POSTGRES_DB to $file"
pg pg_dump -Fc -U "$POSTGRES_USER" -d "$POSTGRES_DB" >"$file.partial"
mv -f "$file.partial" "$file"
validate_dump "$file"
cs_log "dump valid: $(stat -c %s "$file") bytes"

upload=$file
object=$name
if [[ -n "${BACKUP_AGE_RECIPIENT:-}" ]]; then
	age -r "$BACKUP_AGE_RECIPIENT" -o "$file.age" "$file"
	upload="$file.age"
	object="$name.age"
	cs_log "encrypted for $BACKUP_AGE_RECIPIENT"
fi

aws_s3 s3 cp --only-show-errors "$upload" "$(s3_url "daily/$object")"
cs_log "uploaded $(s3_url "daily/$object")"
if [[ "$weekday" == 7 ]]; then
	# Server-side copy: the weekly object costs no second upload.
	aws_s3 s3 cp --only-show-errors "$(s3_url "daily/$object")" "$(s3_url "weekly/$object")"
	cs_log "Sunday: copied to $(s3_url "weekly/$object")"
fi

retention
cs_log "backup finished: $object"

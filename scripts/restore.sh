#!/usr/bin/env bash
# Restore a database backup.
#
#   scripts/restore.sh SOURCE [--target-db NAME] [--yes]
#
# SOURCE is a local dump file, an object name under the backup prefix
# ("daily/cs-20260308T023000Z.dump.age"), a full object key, or "latest"
# (the newest daily dump). .age files are decrypted with BACKUP_AGE_IDENTITY.
#
# Into the live database (the default, POSTGRES_DB; asks for confirmation
# unless --yes): stop app and worker, restore, start them, print
# `course-supporter migrate status`, then wait for /health to be ok.
# Into any other database (--target-db): create it if needed and restore,
# leaving the running service alone (inspect a backup, or copy rows back).
#
# pg_restore runs with --clean --if-exists (drop what the dump recreates),
# --no-owner (objects belong to the restoring user) and --single-transaction
# (all or nothing: a failed restore leaves the database as it was).
# Configuration: infra/backup/lib.sh, plus the service commands below.
set -euo pipefail
CS_PROJECT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
export CS_LOG_TAG=restore
# shellcheck source=../infra/backup/lib.sh
source "$CS_PROJECT_DIR/infra/backup/lib.sh"

compose="docker compose --env-file $(cs_env_file) -f $CS_PROJECT_DIR/docker-compose.yml"
: "${RESTORE_STOP_CMD:=$compose stop app worker}"
: "${RESTORE_START_CMD:=$compose up -d --no-build app \$($compose config --services | grep -x worker)}"
: "${RESTORE_MIGRATE_STATUS_CMD:=$compose run --rm --no-deps app migrate status}"
: "${RESTORE_HEALTH_CMD:=$compose exec -T app course-supporter healthcheck --deep --url http://127.0.0.1:8000/health}"
: "${RESTORE_HEALTH_TRIES:=10}"

usage() { cs_die "usage: $0 SOURCE [--target-db NAME] [--yes]"; }
source_arg="" target="" yes=0
while [[ $# -gt 0 ]]; do
	case "$1" in
	--target-db)
		[[ $# -ge 2 ]] || usage
		target=$2
		shift 2
		;;
	--yes)
		yes=1
		shift
		;;
	-*) usage ;;
	*)
		[[ -z "$source_arg" ]] || usage
		source_arg=$1
		shift
		;;
	esac
done
[[ -n "$source_arg" ]] || usage
cs_require POSTGRES_USER POSTGRES_DB
target=${target:-$POSTGRES_DB}
[[ "$target" =~ ^[a-z_][a-z0-9_]*$ ]] || cs_die "bad database name '$target'"
live=0
[[ "$target" == "$POSTGRES_DB" ]] && live=1

umask 077
mkdir -p "$BACKUP_LOCAL_DIR"
work=$(mktemp -d "$BACKUP_LOCAL_DIR/restore.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- fetch -----------------------------------------------------------------
if [[ -f "$source_arg" ]]; then
	file=$source_arg
else
	cs_require BACKUP_S3_BUCKET BACKUP_S3_ACCESS_KEY BACKUP_S3_SECRET_KEY
	key=$source_arg
	if [[ "$key" == latest ]]; then
		key=$(list_dumps daily | tail -n 1)
		[[ -n "$key" ]] || cs_die "no daily dump under $(s3_url daily/)"
		key="daily/$key"
	fi
	[[ "$key" == "$BACKUP_S3_PREFIX/"* ]] || key="$BACKUP_S3_PREFIX/$key"
	file="$work/${key##*/}"
	cs_log "downloading s3://$BACKUP_S3_BUCKET/$key"
	aws_s3 s3 cp --only-show-errors "s3://$BACKUP_S3_BUCKET/$key" "$file"
fi
if [[ "$file" == *.age ]]; then
	cs_require BACKUP_AGE_IDENTITY
	age -d -i "$BACKUP_AGE_IDENTITY" -o "$work/restore.dump" "$file"
	file="$work/restore.dump"
fi
validate_dump "$file"

# --- restore ---------------------------------------------------------------
if [[ $live == 1 ]]; then
	if [[ $yes != 1 ]]; then
		read -r -p "Replace the LIVE database $target with ${source_arg##*/}? Type the database name: " answer
		[[ "$answer" == "$target" ]] || cs_die "aborted"
	fi
	cs_log "stopping app and worker"
	bash -c "$RESTORE_STOP_CMD"
	# From here on the service is down: bring it back whatever happens.
	trap 'rm -rf "$work"; cs_log "starting app and worker after a failed restore"; bash -c "$RESTORE_START_CMD" || true' EXIT
elif [[ -z "$(psql_value postgres "SELECT 1 FROM pg_database WHERE datname = '$target'")" ]]; then
	cs_log "creating database $target"
	psql_value postgres "CREATE DATABASE $target" >/dev/null
fi

cs_log "restoring into $target"
pg pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error \
	-U "$POSTGRES_USER" -d "$target" <"$file"
cs_log "restore complete: $(psql_value "$target" "SELECT count(*) FROM pg_stat_user_tables") tables"

if [[ $live == 1 ]]; then
	trap 'rm -rf "$work"' EXIT
	cs_log "starting app and worker"
	bash -c "$RESTORE_START_CMD"
	cs_log "migration status:"
	bash -c "$RESTORE_MIGRATE_STATUS_CMD"
	for ((try = 1; ; try++)); do
		if bash -c "$RESTORE_HEALTH_CMD" >/dev/null 2>&1; then
			cs_log "/health is ok"
			break
		fi
		((try < RESTORE_HEALTH_TRIES)) || cs_die "/health not ok after $RESTORE_HEALTH_TRIES tries"
		sleep 5
	done
fi

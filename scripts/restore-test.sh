#!/usr/bin/env bash
# Monthly proof that the backups restore, run by
# infra/backup/course-supporter-restore-test.timer: fetch the newest daily
# dump, restore it into a throw-away PostgreSQL, check it, throw it away.
#
# Production (RESTORE_TEST_MODE=docker): a fresh pgvector container with no
# network at all (--network none), so the copy can neither be reached nor
# reach anything; the dump is streamed in through `docker exec -i`.
# RESTORE_TEST_MODE=exec restores into a scratch database on the server that
# BACKUP_PG_EXEC reaches (used by the tests, which have no Docker engine).
#
# Checks: goose_db_version has applied migrations, and tenants and
# material_nodes can be counted (the counts are logged, for the record).
# Any failure exits non-zero -> OnFailure= -> Telegram.
set -euo pipefail
CS_PROJECT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
export CS_LOG_TAG=restore-test
# shellcheck source=../infra/backup/lib.sh
source "$CS_PROJECT_DIR/infra/backup/lib.sh"

: "${RESTORE_TEST_MODE:=docker}"
# The same image as docker-compose.yml's postgres-cs.
: "${RESTORE_TEST_IMAGE:=pgvector/pgvector:0.8.1-pg17@sha256:3e8b3adfd27b5707128f60956f62a793c3c9326ea8cfaf0eab7adccb5d700b21}"
cs_require POSTGRES_USER BACKUP_S3_BUCKET BACKUP_S3_ACCESS_KEY BACKUP_S3_SECRET_KEY

umask 077
mkdir -p "$BACKUP_LOCAL_DIR"
work=$(mktemp -d "$BACKUP_LOCAL_DIR/restore-test.XXXXXX")
name=$(list_dumps daily | tail -n 1)
[[ -n "$name" ]] || cs_die "no daily dump under $(s3_url daily/)"
cs_log "newest dump: $name"
aws_s3 s3 cp --only-show-errors "$(s3_url "daily/$name")" "$work/$name"
file="$work/$name"
if [[ "$file" == *.age ]]; then
	cs_require BACKUP_AGE_IDENTITY
	age -d -i "$BACKUP_AGE_IDENTITY" -o "$work/restore.dump" "$file"
	file="$work/restore.dump"
fi

db=cs_restore_test
case "$RESTORE_TEST_MODE" in
docker)
	container="cs-restore-test-$$"
	trap 'docker rm -f "$container" >/dev/null 2>&1; rm -rf "$work"' EXIT
	docker run -d --name "$container" --network none \
		-e POSTGRES_USER="$POSTGRES_USER" -e POSTGRES_PASSWORD="restore-test-$$" -e POSTGRES_DB="$db" \
		"$RESTORE_TEST_IMAGE" >/dev/null
	BACKUP_PG_EXEC="docker exec -i $container"
	for ((i = 0; i < 60; i++)); do
		# -h 127.0.0.1: the entrypoint's temporary init server listens on the
		# socket only; TCP answers once the real server is up.
		pg pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$db" && break
		sleep 1
	done
	pg pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$db" || cs_die "throw-away PostgreSQL did not start"
	;;
exec)
	db="cs_restore_test_$$"
	trap 'psql_value postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; rm -rf "$work"' EXIT
	psql_value postgres "CREATE DATABASE $db" >/dev/null
	;;
*) cs_die "RESTORE_TEST_MODE must be docker or exec" ;;
esac

validate_dump "$file"
pg pg_restore --no-owner --single-transaction --exit-on-error -U "$POSTGRES_USER" -d "$db" <"$file"

version=$(psql_value "$db" "SELECT max(version_id) FROM goose_db_version WHERE is_applied") ||
	cs_die "goose_db_version is missing"
[[ "$version" =~ ^[0-9]+$ && "$version" -gt 0 ]] || cs_die "no applied migration in goose_db_version"
tenants=$(psql_value "$db" "SELECT count(*) FROM tenants") || cs_die "tenants is missing"
nodes=$(psql_value "$db" "SELECT count(*) FROM material_nodes") || cs_die "material_nodes is missing"
cs_log "restore test passed: $name, schema version $version, $tenants tenants, $nodes material nodes"

#!/usr/bin/env bash
# Copies the Course Supporter database from one PostgreSQL cluster to another
# and proves the copy complete: the core of a major-version upgrade (17 → 18)
# and of the dump/restore drill (docs/operations/postgres-upgrade.md).
#
#   scripts/pg-dump-restore.sh FROM_DSN TO_DSN
#
#   1 pg_dump -Fc of FROM (use the NEWER version's pg_dump: it reads older
#     servers, not the other way round)
#   2 the target database must be empty (no tables); pgvector is created
#   3 pg_restore --no-owner --exit-on-error --single-transaction into TO
#   4 verification: the same tables, the same row count in every table, the
#     same goose migration version and the same extensions on both sides;
#     any difference exits 1
#
# PG_EXEC is a prefix that runs pg_dump, pg_restore and psql (e.g.
# `docker exec -i course-supporter-db-18` in production, a chroot in the
# tests); empty runs them from PATH. DSNs carry the password, so pass them
# through a root-only file or the environment, not a shell history.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 FROM_DSN TO_DSN" >&2; exit 2; }
from=$1 to=$2
read -r -a exec_prefix <<<"${PG_EXEC:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { printf 'pg-dump-restore: %s\n' "$*"; }
die() {
	printf 'pg-dump-restore: %s\n' "$*" >&2
	exit 1
}
pg() { "${exec_prefix[@]}" "$@"; }
q() { pg psql -X -q -v ON_ERROR_STOP=1 -tA -d "$1" -c "$2"; }

# inventory DSN: "table rows" for every table, then the goose version and
# the extensions; the comparison of two inventories is the verification.
inventory() {
	local t
	for t in $(q "$1" "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"); do
		printf '%s %s\n' "$t" "$(q "$1" "SELECT count(*) FROM $t")"
	done
	printf 'goose_version %s\n' "$(q "$1" "SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied" 2>/dev/null || echo none)"
	q "$1" "SELECT 'extension ' || extname FROM pg_extension ORDER BY 1"
}

log "source: $(q "$from" "SHOW server_version"), target: $(q "$to" "SHOW server_version")"
[[ $(q "$to" "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')") == 0 ]] ||
	die "the target database is not empty; restore into a fresh one"

start=$SECONDS
pg pg_dump -Fc -d "$from" >"$work/db.dump" || die "pg_dump failed"
[[ $(head -c 5 "$work/db.dump") == PGDMP ]] || die "the dump is not a pg_dump archive"
log "dumped $(du -h "$work/db.dump" | cut -f1) in $((SECONDS - start)) s"

q "$to" "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
start=$SECONDS
pg pg_restore --no-owner --exit-on-error --single-transaction -d "$to" <"$work/db.dump" ||
	die "pg_restore failed; the target is unchanged (single transaction)"
log "restored in $((SECONDS - start)) s"

inventory "$from" >"$work/from.txt"
inventory "$to" >"$work/to.txt"
if ! diff -u "$work/from.txt" "$work/to.txt" >"$work/diff.txt"; then
	cat "$work/diff.txt" >&2
	die "the copy differs from the source (above)"
fi
log "verified: $(grep -vc '^goose_version\|^extension' "$work/to.txt") tables with equal row counts, $(grep '^goose_version' "$work/to.txt"), $(grep -c '^extension' "$work/to.txt") extensions"

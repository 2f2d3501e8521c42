#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions are also called through traps
# The PostgreSQL dump/restore drill (docs/operations/postgres-upgrade.md):
# scripts/pg-dump-restore.sh between two real clusters started by
# scripts/local-pg.sh (PostgreSQL 17 + pgvector from Debian in the shared
# chroot, each on its own random port), with the repository's schema and
# data in it. The same script copies 17 → 18 in production; here both
# clusters are 17, which exercises everything but the version jump.
AREA=pgdrill
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOTFS="${CS_CACHE_DIR:-/var/cache/course-supporter}/rootfs"
OLD_PORT=$(free_port) NEW_PORT=$(free_port)
OLD="drill-old-$$" NEW="drill-new-$$"
for c in "$OLD:$OLD_PORT" "$NEW:$NEW_PORT"; do
	"$REPO/scripts/local-pg.sh" start "${c%%:*}" "${c#*:}" >"$T/local-pg.log" 2>&1 ||
		{
			fail "two PostgreSQL 17 clusters start (scripts/local-pg.sh)" "$(cat "$T/local-pg.log")"
			finish
		}
done
stop_clusters() {
	local c
	for c in "$OLD" "$NEW"; do
		"$REPO/scripts/local-pg.sh" stop "$c" >/dev/null 2>&1
		rm -rf "${ROOTFS:?}/var/lib/cs-pg/$c"
	done
}
trap 'stop_clusters; cleanup' EXIT
pass "two clusters run side by side on ports $OLD_PORT and $NEW_PORT"

export PG_EXEC="chroot $ROOTFS env LANG=C.UTF-8"
dsn() { echo "postgres://postgres:postgres@127.0.0.1:$1/$2?sslmode=disable"; }
sql() { chroot "$ROOTFS" env LANG=C.UTF-8 psql -X -v ON_ERROR_STOP=1 -qAt -d "$1" -c "$2"; }
sql "$(dsn "$OLD_PORT" postgres)" "CREATE DATABASE course_supporter" >/dev/null
sql "$(dsn "$NEW_PORT" postgres)" "CREATE DATABASE course_supporter" >/dev/null
SRC=$(dsn "$OLD_PORT" course_supporter) DST=$(dsn "$NEW_PORT" course_supporter)

# The real schema, as goose would leave it (the same approach as backup.sh).
{
	echo "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());"
	echo "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true);"
	for f in "$REPO"/migrations/[0-9]*.sql; do
		sed -n '/^-- +goose Up/,/^-- +goose Down/p' "$f"
		v=$(basename "$f" | sed 's/_.*//; s/^0*//')
		echo "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($v, true);"
	done
	echo "INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'tenant-' || i FROM generate_series(1, 500) i;"
} >"$T/schema.sql"
if out=$(chroot "$ROOTFS" env LANG=C.UTF-8 psql -X -v ON_ERROR_STOP=1 -q -d "$SRC" <"$T/schema.sql" 2>&1); then
	pass "the source holds the repository's schema and 500 tenants"
else
	fail "the source holds the repository's schema and 500 tenants" "$out"
	finish
fi

if out=$("$REPO/scripts/pg-dump-restore.sh" "$SRC" "$DST" 2>&1); then
	pass "pg-dump-restore.sh copies and verifies the database"
else
	fail "pg-dump-restore.sh copies and verifies the database" "$out"
fi
check_eq "the target has the 500 tenants" 500 "$(sql "$DST" "SELECT count(*) FROM tenants")"
check_eq "the target has the same migration version" \
	"$(sql "$SRC" "SELECT max(version_id) FROM goose_db_version")" "$(sql "$DST" "SELECT max(version_id) FROM goose_db_version")"
check_eq "pgvector exists in the target" 1 "$(sql "$DST" "SELECT count(*) FROM pg_extension WHERE extname = 'vector'")"

if out=$("$REPO/scripts/pg-dump-restore.sh" "$SRC" "$DST" 2>&1); then
	fail "a second copy into the now non-empty target is refused" "$out"
else
	check "a second copy into the now non-empty target is refused" grep -q "not empty" <<<"$out"
fi
finish

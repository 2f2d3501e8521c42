#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions are also called through wait_until and traps
# Backup tests: scripts/backup.sh, restore.sh and restore-test.sh against a
# real PostgreSQL 17 + pgvector (scripts/local-pg.sh: Debian packages in a
# chroot; pg_dump/pg_restore/psql from that chroot stand in for
# `docker exec course-supporter-db`), a real S3 API (versitygw) driven by the
# real AWS CLI (Debian's awscli stands in for the pinned aws-cli container),
# and real age encryption.
AREA=backup
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOTFS="${CS_CACHE_DIR:-/var/cache/course-supporter}/rootfs"
PG_PORT=$(free_port) S3_PORT=$(free_port)
CLUSTER="infra-$$"
VGW="${VERSITYGW:-$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")}"
[[ -x "$VGW" ]] || VGW=""

# Our own cluster (random port, removed afterwards); the rootfs is shared.
"$REPO/scripts/local-pg.sh" start "$CLUSTER" "$PG_PORT" >"$T/local-pg.log" 2>&1 ||
	{
		fail "PostgreSQL 17 starts (scripts/local-pg.sh)" "$(cat "$T/local-pg.log")"
		finish
	}
stop_cluster() {
	"$REPO/scripts/local-pg.sh" stop "$CLUSTER" >/dev/null 2>&1
	rm -rf "${ROOTFS:?}/var/lib/cs-pg/$CLUSTER"
}
trap 'stop_cluster; cleanup' EXIT

if [[ -z "$VGW" ]]; then
	fail "versitygw is installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"
	finish
fi
mkdir -p "$T/s3"
bg versitygw "$VGW" --access AKBACKUPTEST --secret backup-test-secret-key --port "127.0.0.1:$S3_PORT" posix "$T/s3"
wait_until 10 port_open "$S3_PORT" || fail "versitygw starts" "$(cat "$T/versitygw.log")"

age-keygen -o "$T/age.key" 2>/dev/null
export CS_ENV_FILE=/dev/null
export POSTGRES_USER=postgres POSTGRES_DB=cs_backup_src
export BACKUP_PG_EXEC="chroot $ROOTFS env LANG=C.UTF-8 PGHOST=127.0.0.1 PGPORT=$PG_PORT PGPASSWORD=postgres"
export BACKUP_AWS="/usr/bin/aws" BACKUP_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" BACKUP_S3_REGION=us-east-1
export BACKUP_S3_BUCKET=cs-backups BACKUP_S3_PREFIX=course-supporter/db
# The key as production keeps it: in backup.env, not in the environment.
BACKUP_S3_ACCESS_KEY=AKBACKUPTEST BACKUP_S3_SECRET_KEY=backup-test-secret-key
printf 'BACKUP_S3_ACCESS_KEY=%s\nBACKUP_S3_SECRET_KEY="%s"\n' "$BACKUP_S3_ACCESS_KEY" "$BACKUP_S3_SECRET_KEY" >"$T/backup.env"
export CS_EXTRA_ENV_FILE="$T/backup.env"
export BACKUP_LOCAL_DIR="$T/local" BACKUP_AGE_IDENTITY="$T/age.key"
export BACKUP_AGE_RECIPIENT
BACKUP_AGE_RECIPIENT=$(age-keygen -y "$T/age.key")

pgx() { # pgx TOOL ARGS...: a PostgreSQL client tool from the chroot
	local -a prefix
	read -r -a prefix <<<"$BACKUP_PG_EXEC"
	"${prefix[@]}" "$@"
}
sql() { pgx psql -X -v ON_ERROR_STOP=1 -qAt -U postgres -d "$1" -c "$2"; }
s3() { AWS_ACCESS_KEY_ID=$BACKUP_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$BACKUP_S3_SECRET_KEY AWS_DEFAULT_REGION=us-east-1 \
	/usr/bin/aws --endpoint-url "$BACKUP_S3_ENDPOINT" "$@"; }
s3_keys() { s3 s3api list-objects-v2 --bucket "$BACKUP_S3_BUCKET" --prefix "$1" --query 'Contents[].Key' --output text |
	tr '\t' '\n' | grep -v '^None$' | LC_ALL=C sort; }
s3 s3 mb "s3://$BACKUP_S3_BUCKET" >/dev/null

# --- a database worth restoring --------------------------------------------------------
# The real schema: every migration's Up section, applied with psql in order,
# recorded in goose_db_version the way goose records it.
sql postgres "CREATE DATABASE cs_backup_src" >/dev/null
{
	echo "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());"
	echo "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true);"
	for f in "$REPO"/migrations/[0-9]*.sql; do
		sed -n '/^-- +goose Up/,/^-- +goose Down/p' "$f"
		v=$(basename "$f" | sed 's/_.*//; s/^0*//')
		echo "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($v, true);"
	done
} >"$T/schema.sql"
if out=$(pgx psql -X -v ON_ERROR_STOP=1 -q -U postgres -d cs_backup_src <"$T/schema.sql" 2>&1); then
	pass "the repository's migrations apply to PostgreSQL 17 + pgvector"
else
	fail "the repository's migrations apply to PostgreSQL 17 + pgvector" "$out"
fi
# Data in every shape the dump must carry: uuids, jsonb, a self-referencing
# tree, a pgvector column, bytea, NULLs, non-ASCII text, an advanced
# sequence, and enough rows to span several pages.
sql cs_backup_src "
INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'tenant-' || g FROM generate_series(1, 3) g;
INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, scopes)
  SELECT gen_random_uuid(), t.id, md5(t.name || g) || md5(g::text), 'cs_live_' || g, '[\"prep\",\"check\"]'
  FROM tenants t, generate_series(1, 4) g;
INSERT INTO material_nodes (id, tenant_id, title, description, expected_knowledge, \"order\")
  SELECT gen_random_uuid(), t.id, 'Модуль ' || g || ' — «Python»', CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('lorem ', g % 50) END,
         jsonb_build_object('topics', jsonb_build_array('a', g)), g
  FROM tenants t, generate_series(1, 700) g;
UPDATE material_nodes c SET parent_materialnode_id = p.id
  FROM material_nodes p WHERE c.tenant_id = p.tenant_id AND c.\"order\" = p.\"order\" + 350;
CREATE TYPE cs_fixture_kind AS ENUM ('video', 'text');
CREATE TABLE cs_backup_fixture (id bigserial PRIMARY KEY, embedding vector(3), payload bytea, note text, meta jsonb,
  kind cs_fixture_kind, at timestamptz);
INSERT INTO cs_backup_fixture (embedding, payload, note, meta, kind, at)
  SELECT ('[' || g || ',' || g / 2.0 || ',-1.5]')::vector, decode(md5(g::text), 'hex'),
         CASE WHEN g % 7 = 0 THEN NULL ELSE 'row ' || g || E' \\\\ tab\there' END, jsonb_build_object('g', g),
         (ARRAY['video', 'text'])[1 + g % 2]::cs_fixture_kind, '2026-03-08 02:30:00+00'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 20000) g;
SELECT setval('cs_backup_fixture_id_seq', 50000);
" >/dev/null || fail "test data can be inserted"

# fingerprint DB: per table "name rows md5-of-all-rows", plus sequence values.
fingerprint() {
	sql "$1" "
	DO \$\$ BEGIN CREATE TEMP TABLE fp (line text); END \$\$;
	DO \$\$ DECLARE r record; n bigint; h text; BEGIN
	  FOR r IN SELECT schemaname, tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename LOOP
	    EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, E''\\n'' ORDER BY t::text), '''')) FROM %I.%I t', r.schemaname, r.tablename) INTO n, h;
	    INSERT INTO fp VALUES (r.tablename || ' ' || n || ' ' || h);
	  END LOOP;
	  FOR r IN SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename LOOP
	    INSERT INTO fp VALUES ('sequence ' || r.sequencename || ' ' || coalesce(r.last_value::text, 'unset'));
	  END LOOP;
	END \$\$;
	SELECT line FROM fp ORDER BY line;"
}
fingerprint cs_backup_src >"$T/fp-src"
check "the source database has the fixture tables (tenants, material_nodes, 20000 fixture rows)" \
	grep -q '^cs_backup_fixture 20000 ' "$T/fp-src"

# --- backup on a Sunday ----------------------------------------------------------------------
SUNDAY="cs-20260308T023000Z.dump"
if out=$(BACKUP_NOW="2026-03-08 02:30:00" "$REPO/scripts/backup.sh" 2>&1); then
	pass "backup.sh dumps, validates, encrypts and uploads"
else
	fail "backup.sh dumps, validates, encrypts and uploads" "$out"
fi
check_eq "Sunday's dump is uploaded to daily/ and weekly/" \
	"course-supporter/db/daily/$SUNDAY.age course-supporter/db/weekly/$SUNDAY.age" "$(s3_keys course-supporter/db/ | xargs)"
check_eq "the local dump is kept with mode 0600 and no partial file" "600 $SUNDAY" \
	"$(stat -c %a "$T/local/$SUNDAY" 2>/dev/null) $(names "$T/local")"
s3 s3 cp --only-show-errors "s3://$BACKUP_S3_BUCKET/course-supporter/db/daily/$SUNDAY.age" "$T/uploaded.age"
check_eq "the uploaded object is age-encrypted, not a plain dump" "age-encryption.org/v1" "$(head -n 1 "$T/uploaded.age")"

# --- restore into a fresh database --------------------------------------------------------------
if out=$("$REPO/scripts/restore.sh" "daily/$SUNDAY.age" --target-db cs_backup_restored 2>&1); then
	pass "restore.sh downloads, decrypts and restores into a fresh database"
else
	fail "restore.sh downloads, decrypts and restores into a fresh database" "$out"
fi
fingerprint cs_backup_restored >"$T/fp-restored"
check "every table's row count and checksum, and every sequence, match the source" \
	diff "$T/fp-src" "$T/fp-restored"
check_eq "the fingerprint covers the schema's tables" "yes" \
	"$(grep -q '^material_nodes 2100 ' "$T/fp-restored" && grep -q '^tenants 3 ' "$T/fp-restored" &&
		grep -q '^goose_db_version ' "$T/fp-restored" && grep -q '^sequence cs_backup_fixture_id_seq 50000' "$T/fp-restored" && echo yes)"

# --- restore into the live database -------------------------------------------------------------------
# The service commands are stand-ins that log their order; the database work
# is real. The live database drifts after the backup; the restore brings it back.
sql cs_backup_src "INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'created-after-backup');
	DELETE FROM cs_backup_fixture WHERE id % 2 = 0;" >/dev/null
if out=$(RESTORE_STOP_CMD="echo stop >>$T/service.log" RESTORE_START_CMD="echo start >>$T/service.log" \
	RESTORE_MIGRATE_STATUS_CMD="echo migrate-status >>$T/service.log" RESTORE_HEALTH_CMD="echo health >>$T/service.log" \
	"$REPO/scripts/restore.sh" latest --yes 2>&1); then
	pass "restore.sh latest --yes restores the live database"
else
	fail "restore.sh latest --yes restores the live database" "$out"
fi
check_eq "live restore stops app/worker, then starts them, checks migrations and /health" \
	"stop start migrate-status health" "$(xargs <"$T/service.log" 2>/dev/null)"
fingerprint cs_backup_src >"$T/fp-live"
check "the live database is back to the backup's content (rows added or deleted since are undone)" \
	diff "$T/fp-src" "$T/fp-live"

# --- a damaged dump never reaches the database ---------------------------------------------------------
head -c 4000 "$T/local/$SUNDAY" >"$T/truncated.dump"
before=$(fingerprint cs_backup_restored)
if "$REPO/scripts/restore.sh" "$T/truncated.dump" --target-db cs_backup_restored >"$T/truncated.log" 2>&1; then
	fail "a truncated dump is rejected before the restore"
else
	check_eq "a truncated dump is rejected and the target database is untouched" "$before" "$(fingerprint cs_backup_restored)"
fi

# --- weekday backup, restore test ---------------------------------------------------------------------------
BACKUP_NOW="2026-03-09 02:30:00" "$REPO/scripts/backup.sh" >"$T/monday.log" 2>&1
check_eq "a weekday backup goes to daily/ only" \
	"course-supporter/db/daily/cs-20260308T023000Z.dump.age course-supporter/db/daily/cs-20260309T023000Z.dump.age course-supporter/db/weekly/cs-20260308T023000Z.dump.age" \
	"$(s3_keys course-supporter/db/ | xargs)"
if out=$(RESTORE_TEST_MODE="exec" "$REPO/scripts/restore-test.sh" 2>&1); then
	if grep -q "restore test passed: cs-20260309T023000Z.dump.age, schema version [1-9][0-9]*, 3 tenants, 2100 material nodes" <<<"$out"; then
		pass "restore-test.sh restores the newest dump into a scratch database and checks goose_db_version, tenants, material_nodes"
	else
		fail "restore-test.sh reports the newest dump and its counts" "$out"
	fi
else
	fail "restore-test.sh restores the newest dump" "$out"
fi
check_eq "restore-test.sh drops its scratch database" "" "$(sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'cs_restore_test%'")"
if POSTGRES_DB=no_such_db BACKUP_NOW="2026-03-10 02:30:00" "$REPO/scripts/backup.sh" >"$T/broken.log" 2>&1; then
	fail "a failing pg_dump makes backup.sh fail"
else
	check_eq "a failing pg_dump makes backup.sh fail, uploads nothing and leaves no partial file" \
		"0 cs-20260308T023000Z.dump cs-20260309T023000Z.dump" \
		"$(s3_keys course-supporter/db/daily/cs-20260310 | wc -l) $(names "$T/local")"
fi

# --- retention -----------------------------------------------------------------------------------------------
# 12 daily and 7 weekly dumps (names only matter), plus objects retention must
# never touch. Expected survivors are computed here independently: the
# newest 7 daily and 4 weekly by timestamp.
s3 s3 rm --recursive --only-show-errors "s3://$BACKUP_S3_BUCKET/course-supporter/"
seed="$T/seed/course-supporter/db"
mkdir -p "$seed/daily" "$seed/weekly" "$T/seed/elsewhere/daily"
for d in 01 02 03 04 05 06 07 08 09 10 11 12; do
	echo x >"$seed/daily/cs-202602${d}T023000Z.dump$([[ $d == 05 ]] && echo .age)"
done
for d in 0104 0111 0118 0125 0201 0208 0215; do echo x >"$seed/weekly/cs-2026${d}T023000Z.dump"; done
for k in daily/notes.txt daily/cs-latest.dump weekly/manual-before-upgrade.dump; do echo x >"$seed/$k"; done
echo x >"$T/seed/elsewhere/daily/cs-20200101T000000Z.dump"
s3 s3 sync --only-show-errors "$T/seed" "s3://$BACKUP_S3_BUCKET/"
s3_keys "" >"$T/before"
rm -f "$T/local"/*
for d in 01 02 03 04 05; do touch "$T/local/cs-202602${d}T023000Z.dump"; done
touch "$T/local/keep-me.txt"
{
	grep -E '^course-supporter/db/daily/cs-[0-9]{8}T[0-9]{6}Z\.dump(\.age)?$' "$T/before" | head -n -7
	grep -E '^course-supporter/db/weekly/cs-[0-9]{8}T[0-9]{6}Z\.dump(\.age)?$' "$T/before" | head -n -4
} | LC_ALL=C sort >"$T/expected-deleted"
if out=$("$REPO/scripts/backup.sh" --retention-only 2>&1); then
	s3_keys "" >"$T/after"
	check_eq "retention deletes exactly the dumps beyond the newest 7 daily and 4 weekly (5 + 3 here)" \
		"$(cat "$T/expected-deleted")" "$(LC_ALL=C comm -23 "$T/before" "$T/after")"
	check_eq "retention keeps the newest 7 daily, the newest 4 weekly and every unrelated object" \
		"$(LC_ALL=C comm -23 "$T/before" "$T/expected-deleted")" "$(cat "$T/after")"
	check_eq "local retention keeps the newest 2 dumps and unrelated files" \
		"cs-20260204T023000Z.dump cs-20260205T023000Z.dump keep-me.txt" "$(names "$T/local")"
else
	fail "backup.sh --retention-only runs" "$out"
fi

# --- failure notification (OnFailure= of the backup, restore-test, renewal units) ---
PTG=$(free_port)
bg telegram python3 "$REPO/infra/test/fake_backend.py" "$PTG" telegram "$T/telegram.jsonl"
wait_until 10 port_open "$PTG"
printf 'NETDATA_TELEGRAM_BOT_TOKEN=123456789:from-env-prod\nNETDATA_TELEGRAM_CHAT_ID=-100777\n' >"$T/env.prod"
if out=$(CS_ENV_FILE="$T/env.prod" TELEGRAM_API="http://127.0.0.1:$PTG" \
	"$REPO/infra/backup/notify-failure.sh" course-supporter-backup.service 2>&1); then
	pycheck "notify-failure.sh posts the failed unit to the Telegram chat from .env.prod" "$T/telegram.jsonl" <<-'EOF'
		import json, sys, urllib.parse
		calls = [json.loads(l) for l in open(sys.argv[1])]
		assert len(calls) == 1, calls
		c = calls[0]
		assert c["method"] == "POST" and c["path"] == "/bot123456789:from-env-prod/sendMessage", c["path"]
		form = urllib.parse.parse_qs(c["body_head"])
		assert form["chat_id"] == ["-100777"], form
		assert "course-supporter-backup.service failed on" in form["text"][0], form["text"]
	EOF
else
	fail "notify-failure.sh posts the failed unit to Telegram" "$out"
fi

finish

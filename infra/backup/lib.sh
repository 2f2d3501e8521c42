# shellcheck shell=bash
# Shared by scripts/backup.sh, scripts/restore.sh and scripts/restore-test.sh.
# Sourced, never executed. Bash.
#
# Defaults describe production: PostgreSQL runs in the course-supporter-db
# container, the S3 CLI runs as a pinned container, dumps live under
# /var/backups/course-supporter. Every value can come from the environment,
# from .env.prod, or from /etc/course-supporter/backup.env (see
# infra/backup/backup.env.example):
#
#   POSTGRES_USER, POSTGRES_DB      the database to dump (the app's)
#   BACKUP_S3_BUCKET                backup bucket (its own bucket, or the
#   BACKUP_S3_PREFIX                materials bucket with a prefix only the
#                                   backup key can reach)
#   BACKUP_S3_ENDPOINT, BACKUP_S3_REGION,
#   BACKUP_S3_ACCESS_KEY, BACKUP_S3_SECRET_KEY
#                                   the backup key, never the materials key
#   BACKUP_AGE_RECIPIENT            optional: encrypt uploads to this age key
#   BACKUP_AGE_IDENTITY             restore only: file with the age secret key
#   BACKUP_LOCAL_DIR                local dumps (default /var/backups/course-supporter)
#   BACKUP_KEEP_DAILY/WEEKLY/LOCAL  retention (7 / 4 / 2)
#   BACKUP_PG_EXEC                  prefix that runs pg_dump, pg_restore and psql
#                                   where PostgreSQL 17's client lives
#   BACKUP_AWS                      how to run the AWS CLI
#
# Object names: <prefix>/daily/cs-<UTC yyyymmddThhmmssZ>.dump[.age] and the
# same name under weekly/. The timestamp makes lexical order chronological,
# which is what retention relies on (not LastModified, which a copy resets).

# The backup key lives outside .env.prod on purpose: docker-compose.yml hands
# all of .env.prod to the app containers (env_file), and a compromised app
# must not be able to delete the backups. Template: infra/backup/backup.env.example.
: "${CS_EXTRA_ENV_FILE:=/etc/course-supporter/backup.env}"

# shellcheck source=../lib/common.sh
source "$CS_PROJECT_DIR/infra/lib/common.sh"

cs_load POSTGRES_USER POSTGRES_DB BACKUP_S3_BUCKET BACKUP_S3_PREFIX \
	BACKUP_S3_ENDPOINT BACKUP_S3_REGION BACKUP_S3_ACCESS_KEY BACKUP_S3_SECRET_KEY \
	BACKUP_AGE_RECIPIENT BACKUP_AGE_IDENTITY BACKUP_LOCAL_DIR BACKUP_KEEP_DAILY \
	BACKUP_KEEP_WEEKLY BACKUP_KEEP_LOCAL BACKUP_PG_EXEC BACKUP_AWS

: "${BACKUP_S3_PREFIX:=course-supporter/db}"
: "${BACKUP_S3_REGION:=us-east-1}"
: "${BACKUP_LOCAL_DIR:=/var/backups/course-supporter}"
: "${BACKUP_KEEP_DAILY:=7}"
: "${BACKUP_KEEP_WEEKLY:=4}"
: "${BACKUP_KEEP_LOCAL:=2}"
# -i: pg_restore reads the dump from stdin. The container's local socket and
# trust authentication spare a password on the command line.
: "${BACKUP_PG_EXEC:=docker exec -i course-supporter-db}"
# Pinned by tag and digest. The local directory is mounted at the same path,
# so file arguments mean the same inside and outside the container.
: "${BACKUP_AWS:=docker run --rm -i -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_DEFAULT_REGION -e AWS_REQUEST_CHECKSUM_CALCULATION -e AWS_RESPONSE_CHECKSUM_VALIDATION -v $BACKUP_LOCAL_DIR:$BACKUP_LOCAL_DIR amazon/aws-cli:2.27.50@sha256:48c3d4212e2f5b0e24bdc6af7708f9412ce65425a79575e0f78b8f8c0dcd70ab}"

BACKUP_S3_PREFIX="${BACKUP_S3_PREFIX%/}"
DUMP_RE='^cs-[0-9]{8}T[0-9]{6}Z\.dump(\.age)?$'

# pg TOOL ARGS... runs a PostgreSQL client tool through BACKUP_PG_EXEC.
pg() {
	local -a prefix
	cs_words prefix "$BACKUP_PG_EXEC"
	"${prefix[@]}" "$@"
}

# psql_value DB SQL prints one value (unaligned, no headers).
psql_value() {
	pg psql -X -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "$1" -c "$2"
}

# aws ARGS... runs the AWS CLI against the backup endpoint with the backup key.
aws_s3() {
	local -a cmd endpoint=()
	cs_words cmd "$BACKUP_AWS"
	[[ -n "${BACKUP_S3_ENDPOINT:-}" ]] && endpoint=(--endpoint-url "$BACKUP_S3_ENDPOINT")
	# when_required: CLI >= 2.23 adds CRC checksums to every upload by
	# default, which S3-compatible stores such as B2 may reject.
	AWS_ACCESS_KEY_ID="$BACKUP_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$BACKUP_S3_SECRET_KEY" \
		AWS_DEFAULT_REGION="$BACKUP_S3_REGION" \
		AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required \
		"${cmd[@]}" "${endpoint[@]}" "$@"
}

s3_url() { printf 's3://%s/%s/%s' "$BACKUP_S3_BUCKET" "$BACKUP_S3_PREFIX" "$1"; }

# list_dumps KIND prints the dump names under <prefix>/KIND/, oldest first.
# Objects that do not look like our dumps are never listed, so retention can
# never delete them.
list_dumps() {
	aws_s3 s3api list-objects-v2 --bucket "$BACKUP_S3_BUCKET" \
		--prefix "$BACKUP_S3_PREFIX/$1/" --query 'Contents[].Key' --output text |
		tr '\t' '\n' | sed 's|.*/||' | grep -E "$DUMP_RE" | LC_ALL=C sort || true
}

# validate_dump FILE: pg_restore must read the archive's table of contents,
# and the dump must contain table data. Catches truncated or empty dumps.
validate_dump() {
	local toc
	toc=$(pg pg_restore --list <"$1") || cs_die "$1 is not a readable pg_dump archive"
	grep -q ' TABLE DATA ' <<<"$toc" || cs_die "$1 contains no table data"
}

#!/usr/bin/env bash
# Starts a local S3 server that verifies SigV4 signatures (versitygw, posix
# backend) with one bucket, for `make run`, end-to-end tests and benchmarks.
#
#   scripts/dev-s3.sh start   start (or reuse) the gateway; prints shell exports
#   scripts/dev-s3.sh stop    stop it
#
# Data lives under $CS_CACHE_DIR/s3 (default /var/cache/course-supporter/s3).
set -euo pipefail

CACHE="${CS_CACHE_DIR:-/var/cache/course-supporter}"
ROOT="$CACHE/s3"
ADDR="${CS_S3_ADDR:-127.0.0.1:7070}"
BUCKET="${S3_BUCKET:-course-materials}"
ACCESS="${CS_S3_ACCESS:-devaccess}"
SECRET="${CS_S3_SECRET:-devsecret-devsecret}"
PIDFILE="$CACHE/versitygw.pid"
VGW="${VERSITYGW:-$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")}"

log() { echo "dev-s3: $*" >&2; }

up() { curl -s -o /dev/null --max-time 2 "http://$ADDR/" ; }

start() {
	[[ -x "$VGW" ]] || { log "versitygw not found; go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"; exit 1; }
	mkdir -p "$ROOT"
	if ! up; then
		nohup "$VGW" --access "$ACCESS" --secret "$SECRET" --port "$ADDR" posix "$ROOT" \
			>"$CACHE/versitygw.log" 2>&1 </dev/null &
		echo $! >"$PIDFILE"
		for _ in $(seq 50); do up && break; sleep 0.1; done
		up || { log "versitygw did not start:"; tail -5 "$CACHE/versitygw.log" >&2; exit 1; }
	fi
	# CreateBucket through the S3 API (signed), so the gateway records it.
	if [[ ! -d "$ROOT/$BUCKET" ]]; then
		curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS:$SECRET" \
			-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
			"http://$ADDR/$BUCKET" >/dev/null || { log "could not create bucket $BUCKET"; exit 1; }
	fi
	cat <<-ENV
		export S3_ENDPOINT=http://$ADDR
		export S3_ACCESS_KEY=$ACCESS
		export S3_SECRET_KEY=$SECRET
		export S3_BUCKET=$BUCKET
		export S3_REGION=us-east-1
	ENV
}

case "${1:-start}" in
start) start ;;
stop)
	if [[ -f "$PIDFILE" ]]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; fi
	rm -f "$PIDFILE"
	;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Upload benchmark: 1 GiB through the API (multipart/form-data, streamed to
# S3) against `curl -T` of the same file straight to the same S3 server, in
# one run, on loopback. Reports the throughput ratio and the app's peak RSS.
#
#   bench/upload/run.sh [SIZE_MIB]      (default 1024)
#
# Needs what `make run` needs: root for the PostgreSQL chroot
# (scripts/local-pg.sh) and versitygw; for the default storage, mkfs.xfs
# (xfsprogs) and loop mounts. Targets: ratio >= 0.8, VmHWM <= 64 MiB.
#
#   S3_FS=xfs|tmpfs   where versitygw's posix backend keeps objects (below)
#   S3_ROOT=DIR       an existing directory instead
#   BENCH_BIN=PATH    benchmark this binary instead of `make build`
set -euo pipefail
cd "$(dirname "$0")/../.."

size_mib="${1:-1024}"
work=$(mktemp -d /var/tmp/cs-bench.XXXXXX)
db="bench_$$"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
	[[ "${s3root:-}" == /dev/shm/cs-bench-s3.* ]] && rm -rf "$s3root"
	[[ -n "${mnt:-}" ]] && { umount "$mnt" && rmdir "$mnt"; }
	[[ -n "${img:-}" ]] && rm -f "$img"
	scripts/local-pg.sh dropdb dev 55433 "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT

if [[ -n "${BENCH_BIN:-}" ]]; then
	bin=$BENCH_BIN
else
	make --no-print-directory build >/dev/null
	bin=bin/course-supporter
fi
vgw="$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")"

# PostgreSQL: the dev cluster, a throw-away database.
admin=$(scripts/local-pg.sh start dev 55433)
scripts/local-pg.sh createdb dev 55433 "$db"
export DATABASE_URL="${admin%/postgres?*}/$db?sslmode=disable"

# Where versitygw's posix backend stores objects. Both uploads land there,
# so the comparison measures the paths, not the disk.
#  - xfs (default when mkfs.xfs is installed): a reflink XFS on a loop
#    image in /dev/shm. versitygw completes a multipart upload by copying
#    the parts into a new file with copy_file_range; on XFS that is a
#    reflink (it only flushes the parts), as cheap as the assembly a real
#    S3 does server-side.
#  - tmpfs: copy_file_range copies every byte again into fresh memory. On a
#    VM that reports free pages to its host (free page reporting), the
#    first touch of such memory costs ~3 s/GiB and whichever upload gets
#    the memory the other just freed is fast: the ratio swings 0.3-1.2.
s3fs="${S3_FS:-}"
if [[ -z "$s3fs" ]]; then
	if command -v mkfs.xfs >/dev/null; then s3fs=xfs; else s3fs=tmpfs; fi
fi
s3root="${S3_ROOT:-}"
if [[ -z "$s3root" && "$s3fs" != tmpfs ]]; then
	img=$(mktemp /dev/shm/cs-bench-img.XXXXXX)
	truncate -s "$((size_mib * 3 + 1024))M" "$img"
	case "$s3fs" in
	xfs) mkfs.xfs -q -m reflink=1 "$img" ;;
	*) echo "S3_FS: xfs or tmpfs" >&2; exit 2 ;;
	esac
	mnt=$(mktemp -d /var/tmp/cs-bench-mnt.XXXXXX)
	mount -o loop "$img" "$mnt"
	s3root="$mnt/s3"
fi
if [[ -z "$s3root" ]]; then
	shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2{print $4}')
	if [[ -n "$shm_free" && "$shm_free" -gt $((size_mib * 3 * 1024)) ]]; then
		s3root=$(mktemp -d /dev/shm/cs-bench-s3.XXXXXX)
	else
		s3root="$work/s3"
	fi
fi
mkdir -p "$s3root"
echo "S3 root: $s3root ($s3fs)"
"$vgw" --access-log "$work/access.log" --access bench --secret bench-secret-1234 --port 127.0.0.1:7171 posix "$s3root" >"$work/vgw.log" 2>&1 &
vgwpid=$!
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:7171/ && break; sleep 0.1; done
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user bench:bench-secret-1234)
curl -sf -X PUT "${sig[@]}" -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	http://127.0.0.1:7171/bench >/dev/null

export S3_ENDPOINT=http://127.0.0.1:7171 S3_ACCESS_KEY=bench S3_SECRET_KEY=bench-secret-1234 S3_BUCKET=bench
export ENVIRONMENT=testing LOG_LEVEL=warn HTTP_ADDR=127.0.0.1:8123 METRICS_ADDR='' RATE_LIMIT_ENABLED=false
export UPLOAD_MAX_BYTES=$(((size_mib + 1) * 1048576))
"$bin" migrate up >/dev/null
"$bin" tenant create --name bench >/dev/null 2>&1
key=$("$bin" key create --tenant bench --scopes prep,check --json 2>/dev/null | sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
"$bin" serve >"$work/app.log" 2>&1 &
app=$!
pids+=("$app")
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:8123/livez && break; sleep 0.1; done
node=$(curl -sf -H "X-API-Key: $key" -H 'Content-Type: application/json' -d '{"title":"bench"}' \
	http://127.0.0.1:8123/api/v1/nodes | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')

# A video-typed file: the mp4 signature, then zeros (generated, not random,
# so the disk is not the bottleneck of the comparison).
file="$work/bench.mp4"
{ printf '\x00\x00\x00\x18ftypmp42'; head -c $((size_mib * 1048576 - 12)) /dev/zero; } >"$file"
sync

rss_before=$(awk '/VmRSS/{print $2}' "/proc/$app/status")
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_before=$(cpu "$app")
vgw_before=$(cpu "$vgwpid")
t_api=$(curl -sf -o "$work/api.json" -w '%{time_total}' -H "X-API-Key: $key" \
	-F source_type=video -F "file=@$file;type=video/mp4" "http://127.0.0.1:8123/api/v1/nodes/$node/materials")
hwm=$(awk '/VmHWM/{print $2}' "/proc/$app/status")
cpu_app=$(($(cpu "$app") - cpu_before))
vgw_api=$(($(cpu "$vgwpid") - vgw_before))
grep -q '"id"' "$work/api.json" || { echo "API upload failed: $(cat "$work/api.json")"; exit 1; }

vgw_before=$(cpu "$vgwpid")
t_direct=$(curl -sf -o /dev/null -w '%{time_total}' -T "$file" "${sig[@]}" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -H "Content-Type: video/mp4" \
	"http://127.0.0.1:7171/bench/direct/bench.mp4")
vgw_direct=$(($(cpu "$vgwpid") - vgw_before))

awk -v s="$size_mib" -v a="$t_api" -v d="$t_direct" -v h="$hwm" -v r="$rss_before" -v c="$cpu_app" -v va="$vgw_api" -v vd="$vgw_direct" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "size: %d MiB\n", s
	printf "API upload:    %6.2f s  %7.1f MiB/s\n", a, s / a
	printf "direct PUT:    %6.2f s  %7.1f MiB/s\n", d, s / d
	printf "ratio (API/direct throughput): %.2f  (target >= 0.80)\n", d / a
	printf "app CPU time during the API upload: %.2f s\n", c / hz
	printf "versitygw CPU time: API upload %.2f s, direct PUT %.2f s\n", va / hz, vd / hz
	printf "app RSS before upload: %.1f MiB; peak RSS (VmHWM): %.1f MiB  (target <= 64 MiB)\n", r / 1024, h / 1024
}'
# versitygw's own time per operation, from its access log (the total ms
# is the 7th field after the operation's name).
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^s3_(UploadPart|CompleteMultipartUpload|PutObject)$/) { n[$i]++; ms[$i] += $(i + 7) } }
END { printf "versitygw time: UploadPart %d x, %.2f s in all; CompleteMultipartUpload %.2f s; PutObject %.2f s\n",
	n["s3_UploadPart"], ms["s3_UploadPart"] / 1000, ms["s3_CompleteMultipartUpload"] / 1000, ms["s3_PutObject"] / 1000 }' "$work/access.log"

#!/usr/bin/env bash
# Upload benchmark: 1 GiB through the API (multipart/form-data, streamed to
# S3 in 10 MiB parts, two in flight) against, in the same run, on loopback:
#  - the same file uploaded straight to the same S3 server as a multipart
#    upload with the same part size and parts in flight (bench/uploadbase
#    -mode multipart, aws-sdk-go-v2): the baseline of the ratio;
#  - `curl -T` of the file as one PUT (for reference);
#  - the floor program (bench/uploadbase -mode floor): SHA-256 of every byte
#    and one copy loopback to loopback, the least CPU any upload through
#    the app needs.
# Reports the throughput ratios, the app's CPU against the floor's, and the
# app's peak RSS; "RESULT name value unit target" lines for make bench.
#
#   bench/upload/run.sh [SIZE_MIB]      (default 1024)
#   PROFILE=cpu.pprof bench/upload/run.sh   # also a CPU profile of the app
#
# Needs what `make run` needs: root for the PostgreSQL chroot
# (scripts/local-pg.sh) and versitygw; for the default storage, mkfs.xfs
# (xfsprogs) and loop mounts. Targets: ratio to the multipart baseline
# >= 0.8, app CPU <= 1.3 x floor, VmHWM <= 64 MiB.
#
#   S3_FS=xfs|tmpfs   where versitygw's posix backend keeps objects (below)
#   S3_ROOT=DIR       an existing directory instead
#   BENCH_BIN=PATH    benchmark this binary instead of `make build`
set -euo pipefail
cd "$(dirname "$0")/../.."

size_mib="${1:-1024}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
vport=$(free_port) aport=$(free_port) mport=$(free_port)
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
	if ! command -v mkfs.xfs >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "installing xfsprogs (apt-get) for the default storage setup" >&2
		apt-get install -y --no-install-recommends xfsprogs >/dev/null 2>&1 || true
	fi
	if command -v mkfs.xfs >/dev/null; then
		s3fs=xfs
	else
		s3fs=tmpfs
		echo "no mkfs.xfs: versitygw on tmpfs, whose throughput ratio swings 0.3-1.2 (see above)" >&2
	fi
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
"$vgw" --access-log "$work/access.log" --access bench --secret bench-secret-1234 --port "127.0.0.1:$vport" posix "$s3root" >"$work/vgw.log" 2>&1 &
vgwpid=$!
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$vport/" && break; sleep 0.1; done
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user bench:bench-secret-1234)
curl -sf -X PUT "${sig[@]}" -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	"http://127.0.0.1:$vport/bench" >/dev/null

export S3_ENDPOINT=http://127.0.0.1:$vport S3_ACCESS_KEY=bench S3_SECRET_KEY=bench-secret-1234 S3_BUCKET=bench
export ENVIRONMENT=testing LOG_LEVEL=warn HTTP_ADDR=127.0.0.1:$aport METRICS_ADDR=127.0.0.1:0 RATE_LIMIT_ENABLED=false
if [[ -n "${PROFILE:-}" ]]; then export METRICS_ADDR=127.0.0.1:$mport; fi
go build -o "$work/uploadbase" ./bench/uploadbase
export UPLOAD_MAX_BYTES=$(((size_mib + 1) * 1048576))
"$bin" migrate up >/dev/null
"$bin" tenant create --name bench >/dev/null 2>&1
key=$("$bin" key create --tenant bench --scopes prep,check --json 2>/dev/null | sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
"$bin" serve >"$work/app.log" 2>&1 &
app=$!
pids+=("$app")
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$aport/livez" && break; sleep 0.1; done
node=$(curl -sf -H "X-API-Key: $key" -H 'Content-Type: application/json' -d '{"title":"bench"}' \
	"http://127.0.0.1:$aport/api/v1/nodes" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')

# A video-typed file: the mp4 signature, then one random MiB repeated (the
# byte mix of compressed media, cheap to generate). Not zeros: mime/multipart
# looks for the last '\r' of every 4 KiB it scans (bytes.LastIndexByte, a
# byte-by-byte loop), so a file without one costs the app ~1 s/GiB that no
# real video, slide deck or PDF does.
file="$work/bench.mp4"
head -c 1048576 /dev/urandom >"$work/block"
{
	printf '\x00\x00\x00\x18ftypmp42'
	for _ in $(seq "$size_mib"); do cat "$work/block"; done | head -c $((size_mib * 1048576 - 12))
} >"$file"
sync

rss_before=$(awk '/VmRSS/{print $2}' "/proc/$app/status")
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_before=$(cpu "$app")
vgw_before=$(cpu "$vgwpid")
if [[ -n "${PROFILE:-}" ]]; then
	curl -sf -o "$PROFILE" "http://127.0.0.1:$mport/debug/pprof/profile?seconds=${PROFILE_SECONDS:-4}" &
	pids+=($!)
fi
t_api=$(curl -sf -o "$work/api.json" -w '%{time_total}' -H "X-API-Key: $key" \
	-F source_type=video -F "file=@$file;type=video/mp4" "http://127.0.0.1:$aport/api/v1/nodes/$node/materials")
hwm=$(awk '/VmHWM/{print $2}' "/proc/$app/status")
cpu_app=$(($(cpu "$app") - cpu_before))
vgw_api=$(($(cpu "$vgwpid") - vgw_before))
grep -q '"id"' "$work/api.json" || { echo "API upload failed: $(cat "$work/api.json")"; exit 1; }

vgw_before=$(cpu "$vgwpid")
t_direct=$(curl -sf -o /dev/null -w '%{time_total}' -T "$file" "${sig[@]}" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -H "Content-Type: video/mp4" \
	"http://127.0.0.1:$vport/bench/direct/bench.mp4")
vgw_direct=$(($(cpu "$vgwpid") - vgw_before))

vgw_before=$(cpu "$vgwpid")
mp=$(S3_ACCESS_KEY=bench S3_SECRET_KEY=bench-secret-1234 "$work/uploadbase" -mode multipart -file "$file" \
	-endpoint "http://127.0.0.1:$vport" -bucket bench -key direct/multipart.mp4)
vgw_mp=$(($(cpu "$vgwpid") - vgw_before))
t_mp=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$mp")

fport=$((20000 + RANDOM % 20000))
"$work/uploadbase" -mode sink -listen "127.0.0.1:$((fport + 1))" >/dev/null &
sinkpid=$!
sleep 0.2
"$work/uploadbase" -mode floor -listen "127.0.0.1:$fport" -to "127.0.0.1:$((fport + 1))" >"$work/floor.json" &
floorpid=$!
sleep 0.2
cat "$file" >"/dev/tcp/127.0.0.1/$fport"
wait "$floorpid" "$sinkpid"
cpu_floor=$(sed -n 's/.*"cpu_seconds":\([0-9.]*\).*/\1/p' "$work/floor.json")

awk -v s="$size_mib" -v a="$t_api" -v d="$t_direct" -v m="$t_mp" -v vm="$vgw_mp" -v f="$cpu_floor" -v h="$hwm" -v r="$rss_before" -v c="$cpu_app" -v va="$vgw_api" -v vd="$vgw_direct" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "size: %d MiB\n", s
	printf "API upload:    %6.2f s  %7.1f MiB/s\n", a, s / a
	printf "direct PUT:    %6.2f s  %7.1f MiB/s\n", d, s / d
	printf "direct multipart (10 MiB parts, 2 in flight): %6.2f s  %7.1f MiB/s\n", m, s / m
	printf "ratio API / direct multipart: %.2f  (target >= 0.80); API / curl -T: %.2f\n", m / a, d / a
	printf "app CPU time during the API upload: %.2f s; floor (SHA-256 + loopback copy): %.2f s; ratio %.2f  (target <= 1.3)\n", c / hz, f, c / hz / f
	printf "versitygw CPU time: API upload %.2f s, direct multipart %.2f s, direct PUT %.2f s\n", va / hz, vm / hz, vd / hz
	printf "app RSS before upload: %.1f MiB; peak RSS (VmHWM): %.1f MiB  (target <= 64 MiB)\n", r / 1024, h / 1024
	printf "RESULT upload.api_vs_multipart %.3f x >=0.8\n", m / a
	printf "RESULT upload.api_vs_curl_put %.3f x \n", d / a
	printf "RESULT upload.app_cpu_vs_floor %.3f x <=1.3\n", c / hz / f
	printf "RESULT upload.peak_rss %.1f MiB <=64\n", h / 1024
	printf "RESULT upload.api_mib_s %.1f MiB/s \n", s / a
}'
# versitygw's own time per operation, from its access log (the total ms
# is the 7th field after the operation's name).
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^s3_(UploadPart|CompleteMultipartUpload|PutObject)$/) { n[$i]++; ms[$i] += $(i + 7) } }
END { printf "versitygw time: UploadPart %d x, %.2f s in all; CompleteMultipartUpload %.2f s; PutObject %.2f s\n",
	n["s3_UploadPart"], ms["s3_UploadPart"] / 1000, ms["s3_CompleteMultipartUpload"] / 1000, ms["s3_PutObject"] / 1000 }' "$work/access.log"

#!/usr/bin/env bash
# Every third-party image this repository runs exists on its registry, and
# every `tag@sha256:digest` pin still agrees with its tag
# (.github/workflows/ci.yml, job "images"; docs/operations/index.md,
# "Images"). A pin is written by hand (or by Dependabot), often without
# registry access, so CI is where a wrong digest, a typo in a tag, or a tag
# that the publisher moved to another image is caught.
#
#   scripts/ci-verify-images.sh          check (docker with buildx, network)
#   scripts/ci-verify-images.sh --list   print "FILE REF" per image found; no network
#
# Sources: `image:` values in docker-compose*.yml and .github/workflows/*.yml,
# the Dockerfile's FROM lines, and scripts/restore-test.sh's
# RESTORE_TEST_IMAGE default. Values with ${…} (this project's own image,
# built and pushed by CI) are skipped. app/internal/deploytest checks that
# the list is complete and that this check fails when it should.
#
# Exit status: 0 all resolve and agree; 1 otherwise (one ::error:: per image).
set -euo pipefail
cd "$(dirname "$0")/.."
DOCKER=${DOCKER:-docker}

# list_images: "FILE REF" lines, one per occurrence.
list_images() {
	local f
	for f in docker-compose*.yml .github/workflows/*.yml; do
		awk -v f="$f" '
			/^[[:space:]]*#/ { next }
			match($0, /^[[:space:]]*(- )?image:[[:space:]]*/) {
				ref = substr($0, RLENGTH + 1)
				sub(/[[:space:]]+#.*$/, "", ref)
				gsub(/["'\''[:space:]]/, "", ref)
				if (ref != "" && index(ref, "$") == 0) print f, ref
			}' "$f"
	done
	# FROM [--platform=…] REF [AS stage]; a REF naming an earlier stage is no image.
	awk 'toupper($1) == "FROM" {
		i = ($2 ~ /^--platform=/) ? 3 : 2
		if (!($i in stage)) print "Dockerfile", $i
		if (toupper($(i + 1)) == "AS") stage[$(i + 2)] = 1
	}' Dockerfile
	sed -nE 's/.*RESTORE_TEST_IMAGE:=([^}]+)\}.*/scripts\/restore-test.sh \1/p' scripts/restore-test.sh
}

if [[ ${1:-} == --list ]]; then
	list_images
	exit 0
fi

# manifest_digest REF: the digest REF resolves to now (the index of a
# multi-platform image, which is what a pin names), or failure.
manifest_digest() {
	local out
	out=$("$DOCKER" buildx imagetools inspect --format '{{json .Manifest}}' "$1") || return 1
	# The first "digest" is the descriptor's own, compact JSON or indented.
	grep -oE '"digest":[[:space:]]*"sha256:[0-9a-f]{64}"' <<<"$out" | head -n 1 | grep -oE 'sha256:[0-9a-f]{64}'
}

failed=0
error() {
	printf '::error file=%s::%s\n' "$1" "$2"
	failed=$((failed + 1))
}

declare -A seen
while read -r file ref; do
	[[ -z ${seen[$ref]:-} ]] || continue
	seen[$ref]=1
	if [[ $ref != *@* ]]; then
		if manifest_digest "$ref" >/dev/null; then
			printf '::warning file=%s::%s is not pinned by digest (resolves today)\n' "$file" "$ref"
		else
			error "$file" "$ref does not resolve on its registry"
		fi
		continue
	fi
	tagged=${ref%@*} pinned=${ref#*@}
	if [[ ! $pinned =~ ^sha256:[0-9a-f]{64}$ ]]; then
		error "$file" "$ref: '$pinned' is not sha256:<64 hex>"
		continue
	fi
	if ! got=$(manifest_digest "$tagged") || [[ -z $got ]]; then
		error "$file" "$tagged (pinned as $ref) does not resolve on its registry: wrong tag?"
		continue
	fi
	if [[ $got != "$pinned" ]]; then
		error "$file" "$tagged now points at $got, not the pinned $pinned: the tag was moved, or the pin is wrong. Check the publisher's release, then pin $tagged@$got (or keep the old digest under a tag that still names it)."
		continue
	fi
	echo "ok $file $ref"
done < <(list_images)

if ((failed)); then
	echo "$failed image pin(s) failed" >&2
	exit 1
fi
echo "all image pins resolve and agree with their tags"

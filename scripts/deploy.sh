#!/usr/bin/env bash
# Deploys one commit on the production VPS (operations.md §13).
#
#   scripts/deploy.sh <commit-sha>          (the full 40-hex SHA)
#
# Steps, in this order:
#   1 fetch and check out exactly <sha> in $DEPLOY_DIR
#   2 build course-supporter:<sha>; the previous tag (.deploy/current) stays
#     (then a pre-migration pg_dump -Fc, the 3 newest kept)
#   3 migrate up with the NEW image, before any container switches
#   4 up -d app (and worker, when its profile is enabled) on the new image
#   5 health loop: up to 10 × 5 s `course-supporter healthcheck --deep` inside
#     the app container
#   6 health loop failed: roll back to the previous image, wait until it is
#     healthy, exit 1 loudly (migrations are not reverted: they are
#     expand/contract, the previous release works on the new schema)
#   7 smoke test (scripts/smoke-test.sh) with the key in the environment
#     (SMOKE_TEST_API_KEY), never on a command line; failure rolls back too
#   8 record .deploy/current and .deploy/previous, then remove only this
#     project's old image tags (never a global prune: the host is shared)
#
# .github/workflows/deploy.yml runs the script of the TARGET commit by piping
# it to `ssh … bash -s -- <sha>`, preceded by `export` lines for the smoke
# test. Everything runs inside main(), which starts by detaching stdin, so no
# command can swallow the rest of a script that is being read from stdin.
#
# Environment (all optional):
#   DEPLOY_DIR=/opt/course-supporter        checkout that compose runs from
#   DEPLOY_ENV_FILE=.env.prod               compose --env-file
#   DEPLOY_COMPOSE_FILE=docker-compose.yml  compose -f
#   DEPLOY_LOCK=/var/lock/course-supporter-deploy   flock; DEPLOY_LOCK_WAIT=300 s
#   DEPLOY_HEALTH_TRIES=10  DEPLOY_HEALTH_INTERVAL=5
#   DEPLOY_DUMP_DIR=$DEPLOY_DIR/.deploy/dumps (mode 0700; *.dump is git- and
#     docker-ignored)  DEPLOY_DUMPS_KEPT=3
#   SMOKE=true|false        false skips the smoke test (workflow input "smoke")
#   SMOKE_TEST_API_KEY      a prep key of the smoke tenant; empty: smoke test
#                           skipped with a notice
#   SMOKE_URL               default https://$API_DOMAIN (API_DOMAIN from the env file)
#
# Exit status: 0 deployed; 1 failed (rolled back when there was a previous
# release); 2 usage.
set -euo pipefail

PROJECT=course-supporter
APP_CONTAINER=course-supporter-app
DB_CONTAINER=course-supporter-db
HEALTH_URL=http://127.0.0.1:8000/health

log() { printf '%s deploy: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
step() { printf '\n%s deploy: ==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$1" "$2"; }
# GitHub turns ::error:: and ::notice:: lines into annotations, even over ssh.
fail() { printf '::error::deploy: %s\n' "$*"; exit 1; }
notice() { printf '::notice::deploy: %s\n' "$*"; }

# compose TAG ARGS…: docker compose for this project with IMAGE_TAG=TAG.
compose() {
	local tag=$1
	shift
	IMAGE_TAG="$tag" docker compose --env-file "$env_file" -f "$compose_file" "$@"
}

# env_value NAME: a value from the env file (last assignment, quotes removed).
env_value() {
	local v
	v=$(sed -n "s/^$1=//p" "$env_file" | tail -n 1)
	v=${v%\"}
	v=${v#\"}
	v=${v%\'}
	printf '%s' "${v#\'}"
}

# healthy: the health loop. Exit 0 as soon as the deep health check passes.
healthy() {
	local i out=""
	for ((i = 1; i <= health_tries; i++)); do
		if out=$(docker exec "$APP_CONTAINER" "$PROJECT" healthcheck --deep --url "$HEALTH_URL" 2>&1); then
			log "healthy (check $i/$health_tries)"
			return 0
		fi
		log "health check $i/$health_tries failed${out:+: $out}"
		if ((i < health_tries)); then
			sleep "$health_interval"
		fi
	done
	return 1
}

# rollback REASON: back to the previous release, then exit 1 whatever happens.
rollback() {
	local reason=$1
	printf '::error::deploy: %s\n' "$reason"
	if [[ -z $previous ]]; then
		fail "no previous release is recorded in .deploy/current, so there is nothing to roll back to: $PROJECT:$sha is running UNHEALTHY"
	fi
	step 6 "rollback to $PROJECT:$previous"
	if git cat-file -e "$previous^{commit}" 2>/dev/null; then
		git checkout --quiet --detach "$previous" || log "could not check out $previous; using the compose file of $sha"
	fi
	if ! compose "$previous" up -d --no-build "${services[@]}"; then
		fail "ROLLBACK FAILED: compose up of $PROJECT:$previous failed after: $reason"
	fi
	if ! healthy; then
		fail "ROLLBACK UNHEALTHY: $PROJECT:$previous does not pass the health check either, after: $reason"
	fi
	fail "deploy of $sha FAILED ($reason); rolled back to $previous, which is healthy. Migrations of $sha were not reverted."
}

main() {
	exec </dev/null

	sha=${1:-}
	if [[ $# -ne 1 || ! $sha =~ ^[0-9a-f]{40}$ ]]; then
		echo "usage: deploy.sh <full 40-hex commit sha>" >&2
		exit 2
	fi
	local dir=${DEPLOY_DIR:-/opt/course-supporter}
	env_file=${DEPLOY_ENV_FILE:-.env.prod}
	compose_file=${DEPLOY_COMPOSE_FILE:-docker-compose.yml}
	health_tries=${DEPLOY_HEALTH_TRIES:-10}
	health_interval=${DEPLOY_HEALTH_INTERVAL:-5}
	local lock=${DEPLOY_LOCK:-/var/lock/course-supporter-deploy}
	local dump_dir=${DEPLOY_DUMP_DIR:-$dir/.deploy/dumps}
	local dumps_kept=${DEPLOY_DUMPS_KEPT:-3}
	previous=""
	services=(app)

	cd "$dir"
	exec 9>"$lock"
	flock -w "${DEPLOY_LOCK_WAIT:-300}" 9 || fail "another deploy holds $lock"
	[[ -f $env_file ]] || fail "$dir/$env_file is missing (cp .env.example $env_file, fill it, chmod 600)"

	step 1 "check out $sha"
	git fetch --prune --quiet origin || fail "git fetch failed"
	git cat-file -e "$sha^{commit}" 2>/dev/null || fail "commit $sha is not in origin (pushed?)"
	git checkout --quiet --detach "$sha" || fail "git checkout $sha failed (local changes in $dir?)"
	[[ $(git rev-parse HEAD) == "$sha" ]] || fail "HEAD is not $sha after checkout"

	mkdir -p .deploy
	local current=""
	[[ -f .deploy/current ]] && current=$(<.deploy/current)
	if [[ $current == "$sha" ]]; then
		# Redeploying the running commit: the fallback stays the release before it.
		[[ -f .deploy/previous ]] && previous=$(<.deploy/previous)
	else
		previous=$current
	fi
	log "running: ${current:-nothing recorded}; rollback target: ${previous:-none}"

	step 2 "build $PROJECT:$sha"
	DOCKER_BUILDKIT=1 docker build \
		--label "com.docker.compose.project=$PROJECT" \
		--build-arg "VERSION=$(git describe --tags --always "$sha")" \
		--build-arg "COMMIT=$sha" \
		--build-arg "BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		-t "$PROJECT:$sha" . || fail "docker build failed; nothing was switched"

	if [[ $(docker inspect -f '{{.State.Running}}' "$DB_CONTAINER" 2>/dev/null) == true ]]; then
		local dump
		dump="$dump_dir/pre-deploy-$(date -u +%Y%m%dT%H%M%SZ)-${sha:0:12}.dump"
		log "pre-migration dump to $dump"
		(umask 077 && mkdir -p "$dump_dir") || fail "cannot create $dump_dir"
		# shellcheck disable=SC2016 # expanded inside the database container
		(umask 077 && docker exec "$DB_CONTAINER" sh -c 'pg_dump -Fc -U "$POSTGRES_USER" -d "$POSTGRES_DB"' >"$dump.tmp") ||
			fail "pre-migration pg_dump failed; nothing was migrated or switched"
		[[ $(head -c 5 "$dump.tmp") == PGDMP ]] || fail "pre-migration dump $dump.tmp is not a pg_dump archive"
		mv "$dump.tmp" "$dump"
		find "$dump_dir" -maxdepth 1 -name 'pre-deploy-*.dump' -printf '%f\n' | sort -r |
			tail -n "+$((dumps_kept + 1))" | while read -r old; do rm -f "$dump_dir/$old"; done
	else
		notice "$DB_CONTAINER is not running: no pre-migration dump (first deploy?)"
	fi

	# Captured first: `| grep -q` could end the pipe early and, under
	# pipefail, turn an enabled worker into a missing one.
	local available
	available=$(compose "$sha" config --services) || fail "docker compose config failed for $sha"
	if grep -qx worker <<<"$available"; then
		services+=(worker)
	fi

	step 3 "migrate up with $PROJECT:$sha (before the switch)"
	compose "$sha" run --rm --no-deps -T app migrate up ||
		fail "migrations failed; nothing was switched, $PROJECT:${current:-?} still serves"

	step 4 "switch ${services[*]} to $PROJECT:$sha"
	compose "$sha" up -d --no-build "${services[@]}" || rollback "compose up of $PROJECT:$sha failed"

	step 5 "health loop ($health_tries × ${health_interval}s)"
	healthy || rollback "$PROJECT:$sha did not become healthy"

	step 7 "smoke test"
	if [[ ${SMOKE:-true} != true ]]; then
		notice "smoke test disabled for this deploy"
	elif [[ -z ${SMOKE_TEST_API_KEY:-} ]]; then
		notice "SMOKE_TEST_API_KEY is empty: smoke test skipped"
	else
		local url=${SMOKE_URL:-}
		if [[ -z $url ]]; then
			url="https://$(env_value API_DOMAIN)"
		fi
		# The key reaches the smoke test through the exported environment only.
		export SMOKE_TEST_API_KEY
		scripts/smoke-test.sh "$url" || rollback "smoke test against $url failed"
	fi

	step 8 "record and prune"
	if [[ $current != "$sha" ]]; then
		[[ -n $current ]] && printf '%s\n' "$current" >.deploy/previous
		printf '%s\n' "$sha" >.deploy/current
		previous=$current
	fi
	local tag
	while read -r tag; do
		[[ -z $tag || $tag == "<none>" || $tag == "$sha" || $tag == "$previous" ]] && continue
		log "removing old image $PROJECT:$tag"
		docker image rm "$PROJECT:$tag" >/dev/null || log "could not remove $PROJECT:$tag (still in use?)"
	done < <(docker image ls --format '{{.Tag}}' "$PROJECT")
	# Dangling layers of this project's earlier builds only (label filter).
	docker image prune -f --filter "label=com.docker.compose.project=$PROJECT" >/dev/null ||
		log "could not prune dangling $PROJECT images"

	log "deployed $sha (rollback target: ${previous:-none})"
}

main "$@"

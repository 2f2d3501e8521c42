#!/usr/bin/env bash
# Deploys one CI-built commit on the production VPS without downtime
# (docs/operations/deploy.md).
#
#   scripts/deploy.sh <commit-sha> <image-digest>
#       commit-sha    the full 40-hex SHA (CI passed for it on main)
#       image-digest  sha256:<64 hex>, the digest CI pushed for that commit to
#                     $IMAGE_REPO (the deploy workflow looks it up)
#
# The server never builds. Steps, in this order:
#   1 fetch and check out exactly <sha> (compose file, scripts, infra/)
#   2 pull IMAGE_REPO@<digest>; refuse it unless its revision label is <sha>;
#     the internal edge network cs-edge exists with the configured subnet
#     (scripts/edge-network.sh; a running edge nginx not yet on it is
#     attached at EDGE_NGINX_IP, so it reaches the new app container there);
#     then a pre-migration pg_dump -Fc, the 3 newest kept
#   3 migrate up with the NEW image, while the old release keeps serving
#   4 compatibility check: the PREVIOUS release's smoke test (from its own
#     commit) against the still-running previous release, now on the new
#     schema. Failure means the migrations broke the rule "backward
#     compatible for one release": reported as an error, and a later
#     rollback is refused (it would go back to a release that fails).
#   5 health-gated switch of app (the `docker rollout` pattern): start the new
#     container BESIDE the old one (`up --scale app=2 --no-recreate`), wait
#     until it passes `healthcheck --deep` on /health, wait DEPLOY_DNS_SETTLE
#     seconds so nginx's resolver (valid=30s) includes it, then stop the old
#     container (SIGTERM: it stops accepting and drains its requests). A
#     release that never becomes healthy is removed; the old one never
#     stopped serving.
#   6 smoke test of the new release (scripts/smoke-test.sh, key in the
#     environment only); failure rolls back with the same switch
#   7 worker (when its profile is enabled): the new worker starts beside the
#     old one; once it is live the old one gets SIGTERM with its full grace
#     period, so its running jobs finish (or are handed back) while the new
#     one already takes jobs
#   8 record .deploy/current and .deploy/previous (+ .digest) and write
#     IMAGE_TAG and IMAGE_DIGEST into the env file, so restore.sh and every
#     manual compose command start the deployed release
#   9 infra changes since the previous release: netdata is recreated when
#     infra/netdata changed, the edge nginx re-renders and reloads when
#     infra/nginx changed (both mount directories, so the checkout is what
#     they read); compose recreates netdata/nginx whose definitions changed
#  10 prune: only this project's image tags other than current and previous
#
# .github/workflows/deploy.yml runs the script of the TARGET commit by piping
# it to `ssh … bash -s -- <sha> <digest>`, preceded by `export` lines for the
# smoke test. Everything runs inside main(), which starts by detaching
# stdin, so no command can swallow the rest of a script read from stdin.
#
# Environment (all optional):
#   DEPLOY_DIR=/opt/course-supporter        checkout that compose runs from
#   DEPLOY_ENV_FILE=.env.prod               compose --env-file (IMAGE_REPO is read from it)
#   DEPLOY_COMPOSE_FILE=docker-compose.yml  compose -f
#   DEPLOY_LOCK=/var/lock/course-supporter-deploy   flock; DEPLOY_LOCK_WAIT=300 s
#   DEPLOY_HEALTH_TRIES=24  DEPLOY_HEALTH_INTERVAL=5   (2 minutes per release)
#   DEPLOY_DNS_SETTLE=35    seconds between "new is healthy" and "stop old"
#   DEPLOY_DUMP_DIR=$DEPLOY_DIR/.deploy/dumps (mode 0700)  DEPLOY_DUMPS_KEPT=3
#   SMOKE=true|false        false skips both smoke tests
#   SMOKE_TEST_API_KEY      a prep key of the smoke tenant; empty: skipped with a notice
#   SMOKE_URL               default https://$API_DOMAIN (API_DOMAIN from the env file)
#
# Exit status: 0 deployed; 1 failed (the previous release serves, or the
# output says loudly why not); 2 usage.
set -euo pipefail

PROJECT=course-supporter
DB_CONTAINER=course-supporter-db
NGINX_CONTAINER=course-supporter-nginx
APP_PROBE=(--deep --url http://127.0.0.1:8000/health)
WORKER_PROBE=(--url http://127.0.0.1:9090/livez)
APP_STOP_TIMEOUT=40    # SHUTDOWN_TIMEOUT (30 s) of draining plus margin
WORKER_STOP_TIMEOUT=90 # WORKER_SHUTDOWN_TIMEOUT (60 s) soft stop, then cancel

log() { printf '%s deploy: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
step() { printf '\n%s deploy: ==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$1" "$2"; }
# GitHub turns ::error:: and ::notice:: lines into annotations, even over ssh.
fail() {
	printf '::error::deploy: %s\n' "$*"
	exit 1
}
notice() { printf '::notice::deploy: %s\n' "$*"; }

# compose TAG DIGEST ARGS…: docker compose for this project on that image.
compose() {
	local tag=$1 digest=$2
	shift 2
	IMAGE_TAG="$tag" IMAGE_DIGEST="$digest" docker compose --env-file "$env_file" -f "$compose_file" "$@"
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

# set_env NAME VALUE: replace (or add) NAME=VALUE in the env file, in place:
# the file keeps its inode, owner and mode 0600.
set_env() {
	local tmp
	tmp=$(mktemp)
	if grep -q "^$1=" "$env_file"; then
		awk -v k="$1" -v v="$2" 'index($0, k "=") == 1 { print k "=" v; next } { print }' "$env_file" >"$tmp"
	else
		cat "$env_file" >"$tmp"
		printf '%s=%s\n' "$1" "$2" >>"$tmp"
	fi
	cat "$tmp" >"$env_file"
	rm -f "$tmp"
}

# record_env TAG DIGEST: the release every later compose command starts.
record_env() {
	set_env IMAGE_TAG "$1"
	set_env IMAGE_DIGEST "$2"
	log "$env_file: IMAGE_TAG=$1 IMAGE_DIGEST=${2:-(none)}"
}

# healthy CONTAINER PROBE…: up to health_tries probes, health_interval apart.
healthy() {
	local c=$1 i out=""
	shift
	for ((i = 1; i <= health_tries; i++)); do
		if out=$(docker exec "$c" "$PROJECT" healthcheck "$@" 2>&1); then
			log "$c healthy (check $i/$health_tries)"
			return 0
		fi
		log "$c: health check $i/$health_tries failed${out:+: $out}"
		if ((i < health_tries)); then
			sleep "$health_interval"
		fi
	done
	return 1
}

# rollout SERVICE TAG DIGEST STOP_TIMEOUT PROBE…: start TAG beside the running
# containers of SERVICE, wait until it is healthy, then stop the old ones.
# Returns 1, with the new container removed and the old ones untouched,
# when the new one never becomes healthy.
rollout() {
	local svc=$1 tag=$2 digest=$3 stop_timeout=$4
	shift 4
	local old all new c n
	old=$(compose "$tag" "$digest" ps -q "$svc") || return 1
	n=$(wc -w <<<"$old")
	log "$svc: starting $PROJECT:$tag beside $n running container(s)"
	compose "$tag" "$digest" up -d --no-deps --no-recreate --scale "$svc=$((n + 1))" "$svc" || return 1
	all=$(compose "$tag" "$digest" ps -q "$svc") || return 1
	new=$(comm -13 <(tr ' ' '\n' <<<"$old" | sed '/^$/d' | sort) <(tr ' ' '\n' <<<"$all" | sed '/^$/d' | sort))
	if [[ $(wc -w <<<"$new") -ne 1 ]]; then
		log "$svc: expected one new container, found: ${new:-none}"
		return 1
	fi
	if ! healthy "$new" "$@"; then
		log "$svc: removing the unhealthy new container $new; the old one keeps running"
		docker stop -t 10 "$new" >/dev/null || true
		docker rm "$new" >/dev/null || true
		return 1
	fi
	[[ -n $old ]] || return 0
	if [[ $svc == app ]]; then
		log "$svc: waiting ${dns_settle}s so nginx's resolver (valid=30s) includes $new"
		sleep "$dns_settle"
	fi
	for c in $old; do
		log "$svc: stopping old container $c (grace ${stop_timeout}s)"
		docker stop -t "$stop_timeout" "$c" >/dev/null || log "could not stop $c"
		docker rm "$c" >/dev/null || log "could not remove $c"
	done
}

# smoke_test SCRIPT LABEL: run a smoke test script against the public URL.
smoke_test() {
	local url=${SMOKE_URL:-}
	[[ -n $url ]] || url="https://$(env_value API_DOMAIN)"
	export SMOKE_TEST_API_KEY # the key reaches it through the environment only
	log "smoke test ($2) against $url"
	bash "$1" "$url"
}

smoke_enabled() {
	[[ ${SMOKE:-true} == true && -n ${SMOKE_TEST_API_KEY:-} ]]
}

# rollback REASON: back to the previous release, then exit 1 whatever happens.
rollback() {
	local reason=$1
	printf '::error::deploy: %s\n' "$reason"
	if [[ -z $previous ]]; then
		fail "no previous release is recorded in .deploy/current, so there is nothing to roll back to: $PROJECT:$sha is running UNHEALTHY"
	fi
	if [[ $compat_broken == true ]]; then
		fail "NOT rolling back: $PROJECT:$previous failed its own smoke test on the new schema (step 4), so it cannot serve either; $PROJECT:$sha stays. Fix forward, or restore the pre-migration dump (.deploy/dumps)."
	fi
	step R "rollback to $PROJECT:$previous"
	if git cat-file -e "$previous^{commit}" 2>/dev/null; then
		git checkout --quiet --detach "$previous" || log "could not check out $previous; using the compose file of $sha"
	fi
	if ! rollout app "$previous" "$previous_digest" "$APP_STOP_TIMEOUT" "${APP_PROBE[@]}"; then
		fail "ROLLBACK FAILED: $PROJECT:$previous did not become healthy either, after: $reason"
	fi
	if [[ $worker_switched == true ]]; then
		rollout worker "$previous" "$previous_digest" "$WORKER_STOP_TIMEOUT" "${WORKER_PROBE[@]}" ||
			printf '::error::deploy: the worker of %s did not become healthy; the worker of %s keeps running\n' "$previous" "$sha"
	fi
	printf '%s\n' "$previous" >.deploy/current
	printf '%s\n' "$previous_digest" >.deploy/current.digest
	record_env "$previous" "$previous_digest"
	fail "deploy of $sha FAILED ($reason); rolled back to $previous, which is healthy. Migrations of $sha were not reverted."
}

# apply_infra FROM: bring nginx and netdata up to the checked-out infra/.
apply_infra() {
	local from=$1 changed="" svcs=()
	if [[ -n $from ]] && git cat-file -e "$from^{commit}" 2>/dev/null; then
		changed=$(git diff --name-only "$from" "$sha" -- infra/nginx infra/netdata "$compose_file")
	else
		changed="(no previous release: everything)"
	fi
	log "infra changes since ${from:-nothing}: $(tr '\n' ' ' <<<"${changed:-none}")"
	grep -qx netdata <<<"$available" && svcs+=(netdata)
	grep -qx nginx <<<"$available" && svcs+=(nginx)
	((${#svcs[@]})) || return 0
	# Recreates only the services whose definition changed (image, mounts…).
	compose "$sha" "$digest" up -d --no-deps "${svcs[@]}" || return 1
	if grep -q '^infra/netdata/' <<<"$changed"; then
		log "infra/netdata changed: recreating netdata"
		compose "$sha" "$digest" up -d --no-deps --force-recreate netdata || return 1
	fi
	if grep -q '^infra/nginx/' <<<"$changed"; then
		if [[ $(docker inspect -f '{{.State.Running}}' "$NGINX_CONTAINER" 2>/dev/null) == true ]]; then
			log "infra/nginx changed: re-rendering and reloading $NGINX_CONTAINER"
			docker exec "$NGINX_CONTAINER" sh -c 'sh /etc/nginx/cs/render.sh && nginx -t -q && nginx -s reload' || return 1
		else
			notice "infra/nginx changed and this project runs no edge nginx (mode A): re-render for the shared nginx and reload it (runbook: Applying infra changes)"
		fi
	fi
}

main() {
	exec </dev/null

	sha=${1:-}
	digest=${2:-}
	if [[ $# -ne 2 || ! $sha =~ ^[0-9a-f]{40}$ || ! $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
		echo "usage: deploy.sh <full 40-hex commit sha> <sha256:image digest>" >&2
		exit 2
	fi
	local dir=${DEPLOY_DIR:-/opt/course-supporter}
	env_file=${DEPLOY_ENV_FILE:-.env.prod}
	compose_file=${DEPLOY_COMPOSE_FILE:-docker-compose.yml}
	health_tries=${DEPLOY_HEALTH_TRIES:-24}
	health_interval=${DEPLOY_HEALTH_INTERVAL:-5}
	dns_settle=${DEPLOY_DNS_SETTLE:-35}
	local lock=${DEPLOY_LOCK:-/var/lock/course-supporter-deploy}
	local dump_dir=${DEPLOY_DUMP_DIR:-$dir/.deploy/dumps}
	local dumps_kept=${DEPLOY_DUMPS_KEPT:-3}
	previous="" previous_digest="" compat_broken=false worker_switched=false available=""

	cd "$dir"
	exec 9>"$lock"
	flock -w "${DEPLOY_LOCK_WAIT:-300}" 9 || fail "another deploy holds $lock"
	[[ -f $env_file ]] || fail "$dir/$env_file is missing (cp .env.prod.example $env_file, fill it, chmod 600)"
	local repo
	repo=$(env_value IMAGE_REPO)
	[[ -n $repo ]] || fail "IMAGE_REPO is not set in $env_file (e.g. ghcr.io/<owner>/course-supporter)"

	step 1 "check out $sha"
	git fetch --prune --quiet origin || fail "git fetch failed"
	git cat-file -e "$sha^{commit}" 2>/dev/null || fail "commit $sha is not in origin (pushed?)"
	git checkout --quiet --detach "$sha" || fail "git checkout $sha failed (local changes in $dir?)"
	[[ $(git rev-parse HEAD) == "$sha" ]] || fail "HEAD is not $sha after checkout"

	mkdir -p .deploy
	local current="" current_digest=""
	[[ -f .deploy/current ]] && current=$(<.deploy/current)
	[[ -f .deploy/current.digest ]] && current_digest=$(<.deploy/current.digest)
	if [[ $current == "$sha" ]]; then
		# Redeploying the running commit: the fallback stays the release before it.
		[[ -f .deploy/previous ]] && previous=$(<.deploy/previous)
		[[ -f .deploy/previous.digest ]] && previous_digest=$(<.deploy/previous.digest)
	else
		previous=$current previous_digest=$current_digest
	fi
	log "running: ${current:-nothing recorded}; rollback target: ${previous:-none}"

	step 2 "pull $repo@$digest"
	docker pull --quiet "$repo@$digest" >/dev/null || fail "docker pull $repo@$digest failed (registry login? see the runbook); nothing was switched"
	local revision
	revision=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$repo@$digest") ||
		fail "cannot inspect $repo@$digest"
	[[ $revision == "$sha" ]] || fail "$repo@$digest was built from '$revision', not $sha; nothing was switched"
	docker tag "$repo@$digest" "$repo:$sha" || fail "docker tag $repo:$sha failed"

	# app, netdata and nginx join the external network cs-edge, so it must
	# exist before anything starts (the migration's `run` included).
	CS_ENV_FILE="$env_file" bash scripts/edge-network.sh --connect "$NGINX_CONTAINER" ||
		fail "the edge network is not ready (see above); nothing was switched"

	# Captured first: `| grep -q` could end the pipe early and, under
	# pipefail, turn an enabled service into a missing one.
	available=$(compose "$sha" "$digest" config --services) || fail "docker compose config failed for $sha"

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
		notice "$DB_CONTAINER is not running: starting it, no pre-migration dump (first deploy?)"
		compose "$sha" "$digest" up -d --no-deps --wait postgres-cs || fail "could not start postgres-cs"
	fi

	step 3 "migrate up with $PROJECT:$sha (the old release keeps serving)"
	compose "$sha" "$digest" run --rm --no-deps -T app migrate up ||
		fail "migrations failed; nothing was switched, $PROJECT:${current:-?} still serves"

	step 4 "the previous release on the new schema"
	if [[ -z $previous ]]; then
		log "no previous release"
	elif ! smoke_enabled; then
		notice "smoke test disabled or SMOKE_TEST_API_KEY empty: the previous release's compatibility with the new schema is NOT checked"
	else
		local old_smoke
		old_smoke=$(mktemp)
		if ! git show "$previous:scripts/smoke-test.sh" >"$old_smoke" 2>/dev/null; then
			notice "$previous has no scripts/smoke-test.sh: compatibility not checked"
		elif ! smoke_test "$old_smoke" "release $previous, new schema"; then
			compat_broken=true
			printf '::error::deploy: the migrations of %s are NOT backward compatible: %s fails its own smoke test on the new schema. Continuing forward (the new release is the way out); rollback is disabled for this deploy.\n' "$sha" "$previous"
		fi
		rm -f "$old_smoke"
	fi

	step 5 "switch app to $PROJECT:$sha"
	if ! rollout app "$sha" "$digest" "$APP_STOP_TIMEOUT" "${APP_PROBE[@]}"; then
		if [[ $compat_broken == true ]]; then
			fail "$PROJECT:$sha never became healthy and $PROJECT:$previous fails on the new schema: service is DEGRADED. Restore the pre-migration dump (.deploy/dumps) and redeploy $previous."
		fi
		fail "$PROJECT:$sha never became healthy and was removed; $PROJECT:${current:-?} kept serving throughout. Its migrations were not reverted."
	fi

	step 6 "smoke test"
	if [[ ${SMOKE:-true} != true ]]; then
		notice "smoke test disabled for this deploy"
	elif [[ -z ${SMOKE_TEST_API_KEY:-} ]]; then
		notice "SMOKE_TEST_API_KEY is empty: smoke test skipped"
	else
		smoke_test scripts/smoke-test.sh "release $sha" || rollback "smoke test of $sha failed"
	fi

	step 7 "worker"
	if grep -qx worker <<<"$available"; then
		worker_switched=true
		rollout worker "$sha" "$digest" "$WORKER_STOP_TIMEOUT" "${WORKER_PROBE[@]}" ||
			rollback "the worker of $sha did not become live"
	else
		log "worker profile not enabled (WORKER_IN_PROCESS?)"
	fi

	step 8 "record"
	if [[ $current != "$sha" ]]; then
		if [[ -n $current ]]; then
			printf '%s\n' "$current" >.deploy/previous
			printf '%s\n' "$current_digest" >.deploy/previous.digest
		fi
		printf '%s\n' "$sha" >.deploy/current
		previous=$current
	fi
	printf '%s\n' "$digest" >.deploy/current.digest
	record_env "$sha" "$digest"

	step 9 "infra"
	apply_infra "$current" || fail "$sha is deployed, but applying the infra changes failed (see above; runbook: Applying infra changes)"

	step 10 "prune"
	local tag
	while read -r tag; do
		[[ -z $tag || $tag == "<none>" || $tag == "$sha" || $tag == "$previous" ]] && continue
		log "removing old image $repo:$tag"
		docker image rm "$repo:$tag" >/dev/null || log "could not remove $repo:$tag (still in use?)"
	done < <(docker image ls --format '{{.Tag}}' "$repo")
	# Dangling layers of this project's images only (label filter).
	docker image prune -f --filter "label=com.docker.compose.project=$PROJECT" >/dev/null ||
		log "could not prune dangling $PROJECT images"

	log "deployed $sha ($digest; rollback target: ${previous:-none})"
}

main "$@"

#!/usr/bin/env bash
# Tests of scripts/deploy.sh (make test-deploy). Pure bash, no Docker engine:
# deploy.sh runs against a throw-away git origin and a stand-in `docker` on
# PATH that records every call (and the IMAGE_TAG it was given) and plays the
# engine's part: a registry of CI-pushed digests, local images, the
# containers of each service (two app containers side by side during a
# switch), health, migrations and the schema they leave. `sleep` is a
# stand-in too, so health loops and the resolver wait cost no time.
# The script is fed to `bash -s -- <sha>` on stdin, exactly as the deploy
# workflow runs it over ssh.
#
# Ends with "N passed, M failed"; exits non-zero if any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy="$PWD/scripts/deploy.sh"
work=$(mktemp -d /tmp/cs-test-deploy.XXXXXX)
holder=""
cleanup() {
	[[ -n $holder ]] && kill "$holder" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

KEY=cs_live_0123456789abcdef0123456789abcdef

# --- stand-ins ----------------------------------------------------------------
REPO=ghcr.io/example/course-supporter
mkdir -p "$work/bin"
cat >"$work/bin/docker" <<'STANDIN'
#!/usr/bin/env bash
# Stand-in for the docker CLI: records the call, then acts like the engine.
# State files: registry ("digest sha"), images (local tags), containers
# ("id service tag"), schema (release migrated to), counter.
set -euo pipefail
s=${FAKE_STATE:?}
REPO=ghcr.io/example/course-supporter
printf 'IMAGE_TAG=%s docker %s\n' "${IMAGE_TAG:-}" "$*" >>"$s/calls"
dc="compose --env-file .env.prod -f docker-compose.yml"
tag_of() { awk -v id="$1" '$1 == id { print $3 }' "$s/containers"; }
svc_ids() { awk -v svc="$1" '$2 == svc { print $1 }' "$s/containers"; }
case "$*" in
"pull --quiet $REPO@"*)
	d=${3#"$REPO@"}
	grep -q "^$d " "$s/registry" || { echo "manifest unknown" >&2; exit 1; }
	;;
"image inspect -f {{index .Config.Labels \"org.opencontainers.image.revision\"}} $REPO@"*)
	d=${5#"$REPO@"}
	awk -v d="$d" '$1 == d { print $2 }' "$s/registry"
	;;
"tag $REPO@"*)
	echo "${3#"$REPO:"}" >>"$s/images"
	;;
"inspect -f {{.State.Running}} course-supporter-db")
	[[ -z ${FAKE_DB_DOWN:-} ]] || { echo "Error: No such object" >&2; exit 1; }
	echo true
	;;
"inspect -f {{.State.Running}} course-supporter-nginx")
	[[ -n ${FAKE_EDGE:-} ]] || { echo "Error: No such object" >&2; exit 1; }
	echo true
	;;
"exec course-supporter-db sh -c "*) printf 'PGDMP-fake-archive' ;;
# The edge network (scripts/edge-network.sh): state file "network" holds
# "<internal> <subnet>" once it exists.
"network inspect cs-edge --format "*)
	[[ -f $s/network ]] || { echo "Error: No such network: cs-edge" >&2; exit 1; }
	cat "$s/network"
	;;
"network create "*)
	args=("$@")
	for ((i = 0; i < ${#args[@]}; i++)); do [[ ${args[i]} == --subnet ]] && subnet=${args[i + 1]}; done
	internal=false
	[[ " $* " == *" --internal "* ]] && internal=true
	echo "$internal ${subnet:?}" >"$s/network"
	;;
"inspect -f {{if .State.Running}}"*" course-supporter-nginx")
	[[ -n ${FAKE_EDGE:-} ]] || { echo "Error: No such object" >&2; exit 1; }
	echo "${FAKE_NGINX_NETS:-course-supporter_default cs-edge }"
	;;
"network connect --ip "*) ;;
"exec course-supporter-nginx sh -c "*) echo "nginx rendered and reloaded" >>"$s/calls" ;;
"$dc config --services")
	printf 'app\npostgres-cs\nnetdata\n'
	[[ -n ${FAKE_NO_WORKER:-} ]] || echo worker
	[[ -z ${FAKE_EDGE:-} ]] || echo nginx
	;;
"$dc up -d --no-deps --wait postgres-cs") ;;
"$dc up -d --no-deps netdata"* | "$dc up -d --no-deps --force-recreate netdata") ;;
"$dc run --rm --no-deps -T app migrate up")
	cat >/dev/null # like an attached stdin: would swallow a script read from stdin
	[[ -z ${FAKE_MIGRATE_FAIL:-} ]] || { echo "migrate: 00042_bad.sql: syntax error" >&2; exit 1; }
	echo "$IMAGE_TAG" >"$s/schema"
	;;
"$dc ps -q "*) svc_ids "${*: -1}" ;;
"$dc up -d --no-deps --no-recreate --scale "*)
	svc=${*: -1}
	want=${*: -2:1}
	want=${want#*=}
	grep -qx "$IMAGE_TAG" "$s/images" || { echo "no such image $REPO:$IMAGE_TAG" >&2; exit 1; }
	while (($(svc_ids "$svc" | wc -l) < want)); do
		n=$(($(cat "$s/counter" 2>/dev/null || echo 0) + 1))
		echo "$n" >"$s/counter"
		others=$(svc_ids "$svc" | tr '\n' ' ')
		echo "$svc-$n $svc $IMAGE_TAG" >>"$s/containers"
		echo "started $svc-$n ($svc, $IMAGE_TAG) beside [$others]" >>"$s/calls"
	done
	;;
"exec "*" course-supporter healthcheck "*)
	id=$2
	tag=$(tag_of "$id")
	[[ -n $tag ]] || { echo "no such container $id" >&2; exit 1; }
	bad=${FAKE_UNHEALTHY:-}
	[[ $id == worker-* ]] && bad=${FAKE_WORKER_UNHEALTHY:-}
	if [[ " $bad " == *" $tag "* ]]; then
		echo "health of $id ($tag): fail" >>"$s/calls"
		echo 'healthcheck: /health answered 503 {"status":"degraded"}' >&2
		exit 1
	fi
	echo "health of $id ($tag): ok" >>"$s/calls"
	;;
"stop -t "*) echo "stopped $4 ($(tag_of "$4"))" >>"$s/calls" ;;
"rm "*)
	awk -v id="$2" '$1 != id' "$s/containers" >"$s/containers.new"
	mv "$s/containers.new" "$s/containers"
	;;
"image ls --format {{.Tag}} $REPO") sort -u "$s/images" ;;
"image rm $REPO:"*)
	tag=${3#"$REPO:"}
	grep -vx "$tag" "$s/images" >"$s/images.new" || true
	mv "$s/images.new" "$s/images"
	;;
"image prune -f --filter label=com.docker.compose.project=course-supporter") ;;
*)
	echo "docker stand-in: unexpected call: $*" >&2
	exit 97
	;;
esac
STANDIN
cat >"$work/bin/sleep" <<'STANDIN'
#!/usr/bin/env bash
printf 'sleep %s\n' "$*" >>"${FAKE_STATE:?}/calls"
STANDIN
chmod +x "$work/bin/docker" "$work/bin/sleep"

# --- a git origin with four commits ---------------------------------------------
# Release 3 changes infra/netdata and infra/nginx; the others only the app.
# Each release's smoke test stand-in records its release number, the tags
# of the app containers running while it ran and the schema it saw; it fails
# when FAKE_SMOKE_FAIL names its release.
git() { command git -c user.name=test -c user.email=test@example.test -c init.defaultBranch=main "$@"; }
seed="$work/seed"
mkdir -p "$seed/scripts" "$seed/infra/netdata" "$seed/infra/nginx"
git init -q "$seed"
printf '.env.prod\n.deploy/\n' >"$seed/.gitignore"
echo "alarm v1" >"$seed/infra/netdata/cs-app.conf"
echo "server v1" >"$seed/infra/nginx/site.conf.template"
# The real edge-network script: deploy.sh runs the one of the target commit.
mkdir -p "$seed/infra/lib"
cp scripts/edge-network.sh "$seed/scripts/"
cp infra/lib/common.sh "$seed/infra/lib/"
shas=()
for n in 1 2 3 4; do
	sed "s/@RELEASE@/$n/g" >"$seed/scripts/smoke-test.sh" <<'STANDIN'
#!/usr/bin/env bash
# Stand-in smoke test of release @RELEASE@.
s=${FAKE_STATE:?}
running=$(awk '$2 == "app" { print $3 }' "$s/containers" | tr '\n' ' ' | sed 's/ $//')
printf 'smoke release=@RELEASE@ argv=[%s] key_in_env=%s running=[%s] schema=%s\n' "$*" \
	"${SMOKE_TEST_API_KEY:+yes}" "$running" "$(cat "$s/schema" 2>/dev/null)" >>"$s/calls"
[[ " ${FAKE_SMOKE_FAIL:-} " != *" @RELEASE@ "* ]]
STANDIN
	chmod +x "$seed/scripts/smoke-test.sh"
	echo "services: {} # release $n" >"$seed/docker-compose.yml"
	if [[ $n == 3 ]]; then
		echo "alarm v3" >"$seed/infra/netdata/cs-app.conf"
		echo "server v3" >"$seed/infra/nginx/site.conf.template"
	fi
	git -C "$seed" add -A
	git -C "$seed" commit -q -m "release $n"
	shas+=("$(git -C "$seed" rev-parse HEAD)")
done
A=${shas[0]} B=${shas[1]} C=${shas[2]} D=${shas[3]}
git clone -q --bare "$seed" "$work/origin.git"
# digest SHA: the digest CI pushed for that commit.
digest() { printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -c1-64)"; }

# --- helpers --------------------------------------------------------------------
# setup [RUNNING_SHA]: a fresh deploy dir checked out at RUNNING_SHA (recorded
# in .deploy/current, its image present, one app and one worker container on
# it, the schema at its release), or at nothing recorded.
setup() {
	t=$(mktemp -d "$work/t.XXXXXX")
	state="$t/state"
	dir="$t/opt"
	mkdir -p "$state" "$t/dumps"
	: >"$state/calls"
	: >"$state/images"
	: >"$state/containers"
	local x
	for x in "$A" "$B" "$C" "$D"; do echo "$(digest "$x") $x" >>"$state/registry"; done
	git clone -q "$work/origin.git" "$dir"
	local tag=${1:-0000000000000000000000000000000000000000} dig=""
	[[ -n ${1:-} ]] && dig=$(digest "$1")
	printf 'API_DOMAIN=api.example.test\nIMAGE_REPO=%s\nIMAGE_TAG=%s\nIMAGE_DIGEST=%s\nPOSTGRES_PASSWORD=x\n' \
		"$REPO" "$tag" "$dig" >"$dir/.env.prod"
	chmod 600 "$dir/.env.prod"
	if [[ -n ${1:-} ]]; then
		git -C "$dir" checkout -q --detach "$1"
		mkdir -p "$dir/.deploy"
		echo "$1" >"$dir/.deploy/current"
		digest "$1" >"$dir/.deploy/current.digest"
		echo "$1" >>"$state/images"
		printf 'app-0 app %s\nworker-0 worker %s\n' "$1" "$1" >"$state/containers"
		echo "$1" >"$state/schema"
	fi
}

# run_deploy SHA [DIGEST]: deploy.sh piped to `bash -s -- SHA DIGEST`, as the
# workflow does. Sets rc; output in $t/out. Extra environment from the caller.
run_deploy() {
	rc=0
	local args=("$1")
	if [[ $# -ge 2 ]]; then args+=("$2"); else args+=("$(digest "$1")"); fi
	{
		printf 'export SMOKE_TEST_API_KEY=%q\n' "${SMOKE_KEY-$KEY}"
		cat "$deploy"
	} | env PATH="$work/bin:$PATH" FAKE_STATE="$state" DEPLOY_DIR="$dir" \
		DEPLOY_LOCK="$t/lock" DEPLOY_LOCK_WAIT=0 DEPLOY_DUMP_DIR="$t/dumps" \
		bash -s -- "${args[@]}" >"$t/out" 2>&1 || rc=$?
}

die() {
	echo "    $*"
	echo "    --- output:"
	sed 's/^/    | /' "$t/out" 2>/dev/null | tail -n 25
	echo "    --- calls:"
	sed 's/^/    | /' "$state/calls" 2>/dev/null | tail -n 50
	return 1
}
expect_rc() { [[ $rc -eq $1 ]] || die "exit status $rc, want $1"; }
# line PATTERN: number of the first call matching the ERE, or 0.
line() { grep -n -E -m1 -- "$1" "$state/calls" | cut -d: -f1 || echo 0; }
has() { grep -q -E -- "$1" "$state/calls" || die "no call matches: $1"; }
hasnt() { ! grep -q -E -- "$1" "$state/calls" || die "unexpected call: $(grep -E -m1 -- "$1" "$state/calls")"; }
count() { grep -c -E -- "$1" "$state/calls" || true; }
said() { grep -q -F -- "$1" "$t/out" || die "output lacks: $1"; }
# in_order PATTERN…: each pattern matches a call after the previous match.
in_order() {
	local prev=0 n p
	for p in "$@"; do
		n=$(grep -n -E -- "$p" "$state/calls" | cut -d: -f1 | awk -v p="$prev" '$1 > p { print; exit }')
		[[ -n $n ]] || die "out of order or missing: '$p' (after line $prev)"
		prev=$n
	done
}
recorded() { [[ $(cat "$dir/.deploy/$1" 2>/dev/null) == "$2" ]] || die ".deploy/$1 is '$(cat "$dir/.deploy/$1" 2>/dev/null)', want $2"; }
# envfile TAG: .env.prod names TAG and its digest once each, keeps its other
# settings, and is still mode 0600.
envfile() {
	grep -qx "IMAGE_TAG=$1" "$dir/.env.prod" || die ".env.prod: $(grep '^IMAGE_TAG=' "$dir/.env.prod"), want IMAGE_TAG=$1"
	grep -qx "IMAGE_DIGEST=$(digest "$1")" "$dir/.env.prod" || die ".env.prod: $(grep '^IMAGE_DIGEST=' "$dir/.env.prod"), want the digest of $1"
	[[ $(grep -c '^IMAGE_TAG=' "$dir/.env.prod") -eq 1 && $(grep -c '^IMAGE_DIGEST=' "$dir/.env.prod") -eq 1 ]] ||
		die ".env.prod assigns IMAGE_TAG or IMAGE_DIGEST twice"
	grep -qx "API_DOMAIN=api.example.test" "$dir/.env.prod" || die ".env.prod lost its other settings"
	[[ $(stat -c %a "$dir/.env.prod") == 600 ]] || die ".env.prod mode $(stat -c %a "$dir/.env.prod"), want 600"
}
# serving SVC TAG…: exactly these tags run for SVC now.
serving() {
	local svc=$1 got want
	shift
	got=$(awk -v s="$svc" '$2 == s { print $3 }' "$state/containers" | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[[ $got == "$want" ]] || die "$svc containers run [$got], want [$want]"
}

DC='docker compose --env-file \.env\.prod -f docker-compose\.yml'
MIGRATE="$DC run --rm --no-deps -T app migrate up"
SCALE_APP="$DC up -d --no-deps --no-recreate --scale app=2 app"
SCALE_WORKER="$DC up -d --no-deps --no-recreate --scale worker=2 worker"

# --- tests ------------------------------------------------------------------------
test_happy_path_switches_without_stopping_the_old_release_first() {
	setup "$A"
	run_deploy "$B"
	expect_rc 0
	in_order "docker pull --quiet $REPO@$(digest "$B")\$" \
		"docker image inspect .*$REPO@$(digest "$B")\$" \
		"docker tag $REPO@$(digest "$B") $REPO:$B\$" \
		'docker exec course-supporter-db sh -c .*pg_dump -Fc' \
		"^IMAGE_TAG=$B $MIGRATE\$" \
		"^smoke release=1 .*running=\[$A\] schema=$B\$" \
		"^IMAGE_TAG=$B $SCALE_APP\$" \
		"^started app-1 \(app, $B\) beside \[app-0 \]" \
		"^health of app-1 \($B\): ok" \
		'^sleep 35$' \
		"^stopped app-0 \($A\)" \
		"^smoke release=2 argv=\[https://api.example.test\] key_in_env=yes running=\[$B\] schema=$B\$" \
		"^IMAGE_TAG=$B $SCALE_WORKER\$" \
		"^health of worker-2 \($B\): ok" \
		"^stopped worker-0 \($A\)" \
		'docker image ls' \
		'docker image prune -f --filter label=com.docker.compose.project=course-supporter'
	has "docker stop -t 40 app-0"
	has "docker stop -t 90 worker-0"
	hasnt 'docker build|compose .* build'
	serving app "$B"
	serving worker "$B"
	[[ $(command git -C "$dir" rev-parse HEAD) == "$B" ]] || die "HEAD is not $B"
	recorded current "$B"
	recorded previous "$A"
	recorded current.digest "$(digest "$B")"
	recorded previous.digest "$(digest "$A")"
	envfile "$B"
	said "deployed $B"
}

test_the_edge_network_exists_before_anything_starts() {
	setup "$A"
	run_deploy "$B"
	expect_rc 0
	in_order "docker pull --quiet" \
		'docker network inspect cs-edge' \
		'docker network create --driver bridge --internal --subnet 172\.30\.240\.0/24 --ip-range 172\.30\.240\.128/25 .* cs-edge$' \
		"$MIGRATE" "$SCALE_APP"
	# A second deploy finds it and leaves it alone.
	run_deploy "$C"
	expect_rc 0
	[[ $(count 'docker network create') -eq 1 ]] || die "the edge network was created twice"
}

test_a_wrong_edge_network_stops_the_deploy_before_the_migration() {
	setup "$A"
	echo "false 172.18.0.0/16" >"$state/network"
	run_deploy "$B"
	expect_rc 1
	said "network cs-edge exists as 'false 172.18.0.0/16'"
	said "nothing was switched"
	hasnt "$MIGRATE"
	hasnt 'docker network (create|connect)'
	serving app "$A"
	recorded current "$A"
}

test_a_running_edge_nginx_joins_the_edge_network_before_the_app_moves() {
	setup "$A"
	FAKE_EDGE=1 FAKE_NGINX_NETS="course-supporter_default shared-net " run_deploy "$B"
	expect_rc 0
	in_order 'docker network create .* cs-edge$' \
		'docker network connect --ip 172\.30\.240\.2 cs-edge course-supporter-nginx$' \
		"$SCALE_APP"
	# Already attached: nothing to do.
	FAKE_EDGE=1 run_deploy "$C"
	expect_rc 0
	[[ $(count 'docker network connect') -eq 1 ]] || die "nginx was connected again"
}

test_the_old_app_keeps_serving_until_the_new_one_is_healthy() {
	setup "$A"
	run_deploy "$B"
	expect_rc 0
	[[ $(line '^stopped ') -gt $(line "^health of app-1 \($B\): ok") ]] || die "a container stopped before the new app was healthy"
	[[ $(count "$MIGRATE") -eq 1 ]] || die "want exactly one migrate call"
	in_order "$MIGRATE" "$SCALE_APP"
}

test_a_release_that_never_becomes_healthy_is_removed_and_the_old_one_serves() {
	setup "$A"
	FAKE_UNHEALTHY="$B" run_deploy "$B"
	expect_rc 1
	[[ $(count "^health of app-1 \($B\): fail") -eq 24 ]] || die "want 24 failed checks of app-1, got $(count "^health of app-1 \($B\): fail")"
	[[ $(count '^sleep 5$') -eq 23 ]] || die "want 23 pauses of 5 s between the checks, got $(count '^sleep 5$')"
	has "^stopped app-1 \($B\)"
	hasnt "^stopped app-0"
	hasnt '^smoke release=2'
	hasnt "$SCALE_WORKER"
	hasnt 'docker image (rm|prune)'
	serving app "$A"
	serving worker "$A"
	said "course-supporter:$B never became healthy and was removed; course-supporter:$A kept serving throughout"
	recorded current "$A"
	envfile "$A"
}

test_failed_migration_switches_nothing() {
	setup "$A"
	FAKE_MIGRATE_FAIL=1 run_deploy "$B"
	expect_rc 1
	hasnt "--scale"
	hasnt 'healthcheck'
	said "::error::deploy: migrations failed; nothing was switched"
	recorded current "$A"
	envfile "$A"
	serving app "$A"
}

test_failed_smoke_test_rolls_back_with_the_same_switch_and_restores_the_env_file() {
	setup "$A"
	FAKE_SMOKE_FAIL=2 run_deploy "$B"
	expect_rc 1
	in_order "^health of app-1 \($B\): ok" "^stopped app-0 \($A\)" "^smoke release=2 .*running=\[$B\]" \
		"^IMAGE_TAG=$A $SCALE_APP\$" "^started app-2 \(app, $A\) beside \[app-1 \]" "^health of app-2 \($A\): ok" "^stopped app-1 \($B\)"
	hasnt "$SCALE_WORKER"
	said "smoke test of $B failed"
	said "rolled back to $A, which is healthy"
	serving app "$A"
	serving worker "$A"
	[[ $(command git -C "$dir" rev-parse HEAD) == "$A" ]] || die "checkout not back at $A"
	recorded current "$A"
	recorded current.digest "$(digest "$A")"
	envfile "$A"
}

test_previous_release_is_smoke_tested_on_the_new_schema_before_the_switch() {
	setup "$B"
	run_deploy "$C"
	expect_rc 0
	in_order "^IMAGE_TAG=$C $MIGRATE\$" "^smoke release=2 .*running=\[$B\] schema=$C\$" "$SCALE_APP"
}

test_a_schema_that_breaks_the_previous_release_is_reported_and_rollback_refused() {
	setup "$A"
	FAKE_SMOKE_FAIL="1 2" run_deploy "$B"
	expect_rc 1
	said "the migrations of $B are NOT backward compatible: $A fails its own smoke test on the new schema"
	said "NOT rolling back"
	hasnt "^IMAGE_TAG=$A $SCALE_APP"
	serving app "$B"
}

test_an_image_built_from_another_commit_is_refused() {
	setup "$A"
	run_deploy "$B" "$(digest "$C")"
	expect_rc 1
	said "was built from '$C', not $B"
	hasnt "$MIGRATE"
	hasnt '--scale'
}

test_an_unknown_digest_is_refused_before_anything_changes() {
	setup "$A"
	run_deploy "$B" "sha256:$(printf '0%.0s' {1..64})"
	expect_rc 1
	said "docker pull"
	hasnt "$MIGRATE"
	envfile "$A"
}

test_worker_is_replaced_after_its_successor_is_live() {
	setup "$A"
	run_deploy "$B"
	expect_rc 0
	in_order "^started worker-2 \(worker, $B\) beside \[worker-0 \]" "^health of worker-2 \($B\): ok" "^stopped worker-0 \($A\)"
	has "docker exec worker-2 course-supporter healthcheck --url http://127.0.0.1:9090/livez"
	# No resolver wait for the worker: nothing routes to it.
	[[ $(count '^sleep 35$') -eq 1 ]] || die "want one resolver wait (app only)"
}

test_a_worker_that_never_goes_live_rolls_everything_back() {
	setup "$A"
	FAKE_WORKER_UNHEALTHY="$B" run_deploy "$B"
	expect_rc 1
	said "the worker of $B did not become live"
	serving app "$A"
	serving worker "$A"
	envfile "$A"
}

test_worker_is_switched_only_when_its_profile_is_enabled() {
	setup "$A"
	FAKE_NO_WORKER=1 run_deploy "$B"
	expect_rc 0
	hasnt "$SCALE_WORKER"
	serving worker "$A"
}

test_smoke_key_travels_in_the_environment_never_in_argv() {
	setup "$A"
	SMOKE_URL=https://staging.example.test run_deploy "$B"
	expect_rc 0
	has '^smoke release=2 argv=\[https://staging.example.test\] key_in_env=yes'
	! grep -q -F "$KEY" "$state/calls" || die "the key appears in a command line"
	! grep -q -F "$KEY" "$t/out" || die "the key appears in the output"
}

test_empty_smoke_key_skips_both_smoke_tests_with_notices() {
	setup "$A"
	SMOKE_KEY="" run_deploy "$B"
	expect_rc 0
	hasnt '^smoke '
	said "::notice::deploy: SMOKE_TEST_API_KEY is empty: smoke test skipped"
	said "compatibility with the new schema is NOT checked"
	recorded current "$B"
	envfile "$B"
}

test_infra_changes_recreate_netdata_and_reload_the_edge_nginx() {
	setup "$B"
	FAKE_EDGE=1 run_deploy "$C"
	expect_rc 0
	has "^IMAGE_TAG=$C $DC up -d --no-deps netdata nginx\$"
	has "^IMAGE_TAG=$C $DC up -d --no-deps --force-recreate netdata\$"
	has "docker exec course-supporter-nginx sh -c sh /etc/nginx/cs/render.sh && nginx -t -q && nginx -s reload"
	in_order "^stopped worker-0" "force-recreate netdata"
}

test_no_infra_change_recreates_nothing() {
	setup "$C"
	FAKE_EDGE=1 run_deploy "$D"
	expect_rc 0
	has "^IMAGE_TAG=$D $DC up -d --no-deps netdata nginx\$"
	hasnt 'force-recreate'
	hasnt 'render.sh'
}

test_infra_change_without_an_edge_nginx_tells_how_to_apply_it() {
	setup "$B"
	run_deploy "$C"
	expect_rc 0
	has 'force-recreate netdata'
	hasnt 'render.sh'
	said "infra/nginx changed and this project runs no edge nginx (mode A)"
}

test_prune_removes_only_this_projects_old_tags() {
	setup "$B"
	printf '%s\n' old1 old2 "$A" >>"$state/images"
	echo "$A" >"$dir/.deploy/previous"
	run_deploy "$C"
	expect_rc 0
	has "^IMAGE_TAG= docker image rm $REPO:old1\$"
	has "^IMAGE_TAG= docker image rm $REPO:old2\$"
	has "^IMAGE_TAG= docker image rm $REPO:$A\$"
	hasnt "docker image rm $REPO:($B|$C)\$"
	hasnt 'prune -a|system prune|builder prune|volume prune'
	[[ $(sort "$state/images" | tr '\n' ' ') == "$(printf '%s\n' "$B" "$C" | sort | tr '\n' ' ')" ]] ||
		die "images left: $(tr '\n' ' ' <"$state/images"), want $B and $C"
	recorded current "$C"
	recorded previous "$B"
}

test_first_deploy_starts_the_database_and_fails_loudly_without_rollback() {
	setup ""
	FAKE_UNHEALTHY="$A" FAKE_DB_DOWN=1 run_deploy "$A"
	expect_rc 1
	has "$DC up -d --no-deps --wait postgres-cs"
	said "::notice::deploy: course-supporter-db is not running: starting it, no pre-migration dump"
	has "$DC up -d --no-deps --no-recreate --scale app=1 app"
	[[ ! -e $dir/.deploy/current ]] || die ".deploy/current written for a failed deploy"
}

test_first_deploy_writes_the_env_file() {
	setup ""
	FAKE_DB_DOWN=1 run_deploy "$A"
	expect_rc 0
	hasnt '^sleep 35'
	envfile "$A"
	recorded current "$A"
}

test_unhealthy_rollback_fails_loudly() {
	setup "$A"
	FAKE_SMOKE_FAIL=2 FAKE_UNHEALTHY="$A" run_deploy "$B"
	expect_rc 1
	said "ROLLBACK FAILED"
	serving app "$B"
}

test_redeploying_the_running_commit_keeps_the_older_rollback_target() {
	setup "$B"
	echo "$A" >"$dir/.deploy/previous"
	digest "$A" >"$dir/.deploy/previous.digest"
	echo "$A" >>"$state/images"
	FAKE_SMOKE_FAIL=2 run_deploy "$B"
	expect_rc 1
	has "^IMAGE_TAG=$A $SCALE_APP\$"
	envfile "$A"
}

test_pre_migration_dumps_are_private_and_the_three_newest_kept() {
	setup "$A"
	for d in 20250101T000000Z 20250102T000000Z 20250103T000000Z; do
		echo PGDMP >"$t/dumps/pre-deploy-$d-aaaaaaaaaaaa.dump"
	done
	run_deploy "$B"
	expect_rc 0
	local newest
	newest=$(find "$t/dumps" -name "pre-deploy-*-${B:0:12}.dump")
	[[ -n $newest ]] || die "no dump for $B"
	[[ $(stat -c %a "$newest") == 600 ]] || die "dump mode $(stat -c %a "$newest"), want 600"
	[[ $(find "$t/dumps" -name 'pre-deploy-*.dump' | wc -l) -eq 3 ]] || die "want 3 dumps kept: $(ls "$t/dumps")"
	[[ ! -e $t/dumps/pre-deploy-20250101T000000Z-aaaaaaaaaaaa.dump ]] || die "the oldest dump was kept"
	in_order 'pg_dump' "$MIGRATE"
}

test_a_concurrent_deploy_is_refused() {
	setup "$A"
	# A subshell that takes the lock and becomes `sleep`, so $! holds it.
	(
		exec 8>"$t/lock"
		flock 8
		exec sleep 30
	) &
	holder=$!
	for _ in $(seq 50); do flock -n "$t/lock" true || break; command sleep 0.1; done
	run_deploy "$B"
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	holder=""
	expect_rc 1
	said "another deploy holds $t/lock"
	hasnt 'docker'
}

test_bad_arguments_are_a_usage_error_before_anything_runs() {
	setup "$A"
	run_deploy main
	expect_rc 2
	run_deploy "${B:0:12}"
	expect_rc 2
	run_deploy "$B" ""
	expect_rc 2
	run_deploy "$B" "sha256:abc"
	expect_rc 2
	hasnt 'docker'
}

test_an_unknown_commit_fails_before_the_pull() {
	setup "$A"
	run_deploy 0123456789abcdef0123456789abcdef01234567
	expect_rc 1
	said "is not in origin"
	hasnt 'docker pull'
}

# --- runner ---------------------------------------------------------------------
passed=0 failed=0
for fn in $(declare -F | awk '$3 ~ /^test_/ {print $3}'); do
	set +e
	(set -e; "$fn")
	status=$?
	set -e
	if [[ $status -eq 0 ]]; then
		passed=$((passed + 1))
		echo "ok   ${fn#test_}"
	else
		failed=$((failed + 1))
		echo "FAIL ${fn#test_}"
	fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

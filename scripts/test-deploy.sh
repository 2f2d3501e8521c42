#!/usr/bin/env bash
# Tests of scripts/deploy.sh (make test-deploy). Pure bash, no Docker engine:
# deploy.sh runs against a throw-away git origin and a stand-in `docker` on
# PATH that records every call (and the image tag it was given) and plays the
# engine's part: images, the running tag, health, migrations. `sleep` is a
# stand-in too, so the 10 × 5 s health loop takes no time but is recorded.
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
mkdir -p "$work/bin"
cat >"$work/bin/docker" <<'EOF'
#!/usr/bin/env bash
# Stand-in for the docker CLI: records the call, then acts like the engine.
set -euo pipefail
s=${FAKE_STATE:?}
printf 'IMAGE_TAG=%s docker %s\n' "${IMAGE_TAG:-}" "$*" >>"$s/calls"
case "$*" in
build\ *)
	args=("$@")
	for ((i = 0; i < ${#args[@]}; i++)); do
		[[ ${args[i]} == -t ]] && tag=${args[i + 1]#course-supporter:}
	done
	printf 'built %s at HEAD=%s\n' "$tag" "$(git rev-parse HEAD)" >>"$s/calls"
	echo "$tag" >>"$s/images"
	;;
"inspect -f {{.State.Running}} course-supporter-db")
	[[ -z ${FAKE_DB_DOWN:-} ]] || { echo "Error: No such object" >&2; exit 1; }
	echo true
	;;
"exec course-supporter-db sh -c "*) printf 'PGDMP-fake-archive' ;;
"compose --env-file .env.prod -f docker-compose.yml config --services")
	printf 'app\npostgres-cs\nnetdata\n'
	[[ -n ${FAKE_NO_WORKER:-} ]] || echo worker
	;;
"compose --env-file .env.prod -f docker-compose.yml run --rm --no-deps -T app migrate up")
	cat >/dev/null # like an attached stdin: would swallow a script read from stdin
	[[ -z ${FAKE_MIGRATE_FAIL:-} ]] || { echo "migrate: 00042_bad.sql: syntax error" >&2; exit 1; }
	;;
"compose --env-file .env.prod -f docker-compose.yml up -d --no-build "*)
	grep -qx "$IMAGE_TAG" "$s/images" || { echo "no such image course-supporter:$IMAGE_TAG" >&2; exit 1; }
	echo "$IMAGE_TAG" >"$s/running"
	;;
"exec course-supporter-app course-supporter healthcheck --deep --url http://127.0.0.1:8000/health")
	running=$(cat "$s/running" 2>/dev/null || true)
	if [[ " ${FAKE_UNHEALTHY:-} " == *" $running "* ]]; then
		echo "health of $running: fail" >>"$s/calls"
		echo 'healthcheck: /health answered 503 {"status":"degraded"}' >&2
		exit 1
	fi
	echo "health of $running: ok" >>"$s/calls"
	;;
"image ls --format {{.Tag}} course-supporter") sort -u "$s/images" ;;
"image rm course-supporter:"*)
	tag=${3#course-supporter:}
	grep -vx "$tag" "$s/images" >"$s/images.new" || true
	mv "$s/images.new" "$s/images"
	;;
"image prune -f --filter label=com.docker.compose.project=course-supporter") ;;
*)
	echo "docker stand-in: unexpected call: $*" >&2
	exit 97
	;;
esac
EOF
cat >"$work/bin/sleep" <<'EOF'
#!/usr/bin/env bash
printf 'sleep %s\n' "$*" >>"${FAKE_STATE:?}/calls"
EOF
chmod +x "$work/bin/docker" "$work/bin/sleep"

# --- a git origin with three commits ------------------------------------------
git() { command git -c user.name=test -c user.email=test@example.test -c init.defaultBranch=main "$@"; }
seed="$work/seed"
mkdir -p "$seed/scripts"
git init -q "$seed"
cat >"$seed/scripts/smoke-test.sh" <<'EOF'
#!/usr/bin/env bash
# Stand-in smoke test: records its argv and whether the key came in the environment.
printf 'smoke argv=[%s] key_in_env=%s\n' "$*" "${SMOKE_TEST_API_KEY:+yes}" >>"${FAKE_STATE:?}/calls"
[[ -z ${FAKE_SMOKE_FAIL:-} ]]
EOF
chmod +x "$seed/scripts/smoke-test.sh"
printf '.env.prod\n.deploy/\n' >"$seed/.gitignore"
shas=()
for n in 1 2 3; do
	echo "services: {} # release $n" >"$seed/docker-compose.yml"
	git -C "$seed" add -A
	git -C "$seed" commit -q -m "release $n"
	shas+=("$(git -C "$seed" rev-parse HEAD)")
done
A=${shas[0]} B=${shas[1]} C=${shas[2]}
git clone -q --bare "$seed" "$work/origin.git"

# --- helpers --------------------------------------------------------------------
# setup [RUNNING_SHA]: a fresh deploy dir checked out at RUNNING_SHA (recorded
# in .deploy/current, its image present), or at nothing recorded.
setup() {
	t=$(mktemp -d "$work/t.XXXXXX")
	state="$t/state"
	dir="$t/opt"
	mkdir -p "$state" "$t/dumps"
	: >"$state/calls"
	: >"$state/images"
	git clone -q "$work/origin.git" "$dir"
	echo "API_DOMAIN=api.example.test" >"$dir/.env.prod"
	if [[ -n ${1:-} ]]; then
		git -C "$dir" checkout -q --detach "$1"
		mkdir -p "$dir/.deploy"
		echo "$1" >"$dir/.deploy/current"
		echo "$1" >>"$state/images"
		echo "$1" >"$state/running"
	fi
}

# run_deploy SHA: deploy.sh piped to `bash -s -- SHA`, as the workflow does.
# Sets rc; output in $t/out. Extra environment comes from the caller.
run_deploy() {
	rc=0
	{
		printf 'export SMOKE_TEST_API_KEY=%q\n' "${SMOKE_KEY-$KEY}"
		cat "$deploy"
	} | env PATH="$work/bin:$PATH" FAKE_STATE="$state" DEPLOY_DIR="$dir" \
		DEPLOY_LOCK="$t/lock" DEPLOY_LOCK_WAIT=0 DEPLOY_DUMP_DIR="$t/dumps" \
		bash -s -- "$@" >"$t/out" 2>&1 || rc=$?
}

die() {
	echo "    $*"
	echo "    --- output:"
	sed 's/^/    | /' "$t/out" 2>/dev/null | tail -n 25
	echo "    --- calls:"
	sed 's/^/    | /' "$state/calls" 2>/dev/null | tail -n 40
	return 1
}
expect_rc() { [[ $rc -eq $1 ]] || die "exit status $rc, want $1"; }
# line PATTERN: number of the first call matching the ERE, or 0.
line() { grep -n -E -m1 -- "$1" "$state/calls" | cut -d: -f1 || echo 0; }
has() { grep -q -E -- "$1" "$state/calls" || die "no call matches: $1"; }
hasnt() { ! grep -q -E -- "$1" "$state/calls" || die "unexpected call: $(grep -E -m1 -- "$1" "$state/calls")"; }
count() { grep -c -E -- "$1" "$state/calls" || true; }
said() { grep -q -F -- "$1" "$t/out" || die "output lacks: $1"; }
# in_order PATTERN…: each pattern first matches after the previous one.
in_order() {
	local prev=0 n p
	for p in "$@"; do
		n=$(line "$p")
		[[ $n -gt $prev ]] || die "out of order or missing: '$p' (line $n, after line $prev)"
		prev=$n
	done
}
recorded() { [[ $(cat "$dir/.deploy/$1" 2>/dev/null) == "$2" ]] || die ".deploy/$1 is '$(cat "$dir/.deploy/$1" 2>/dev/null)', want $2"; }

UP='docker compose --env-file \.env\.prod -f docker-compose\.yml up -d --no-build'
MIGRATE='docker compose --env-file \.env\.prod -f docker-compose\.yml run --rm --no-deps -T app migrate up'
HEALTH='docker exec course-supporter-app course-supporter healthcheck --deep'

# --- tests ------------------------------------------------------------------------
test_happy_path_runs_the_steps_in_order() {
	setup "$A"
	run_deploy "$B"
	expect_rc 0
	in_order "^built $B at HEAD=$B\$" \
		'docker exec course-supporter-db sh -c .*pg_dump -Fc' \
		"^IMAGE_TAG=$B $MIGRATE\$" \
		"^IMAGE_TAG=$B $UP app worker\$" \
		"^health of $B: ok\$" \
		"^smoke argv=\[https://api.example.test\]" \
		'docker image ls' \
		'docker image prune -f --filter label=com.docker.compose.project=course-supporter'
	has "docker build --label com.docker.compose.project=course-supporter .*--build-arg COMMIT=$B .*-t course-supporter:$B \.\$"
	[[ $(command git -C "$dir" rev-parse HEAD) == "$B" ]] || die "HEAD is not $B"
	recorded current "$B"
	recorded previous "$A"
	said "deployed $B"
}

test_migrations_run_with_the_new_image_before_the_switch() {
	setup "$A"
	run_deploy "$B"
	expect_rc 0
	[[ $(count "$MIGRATE") -eq 1 ]] || die "want exactly one migrate call"
	has "^IMAGE_TAG=$B $MIGRATE\$"
	in_order "$MIGRATE" "$UP"
	[[ $(count "$UP") -eq 1 ]] || die "want exactly one switch"
}

test_failed_health_check_rolls_back_to_the_previous_image() {
	setup "$A"
	FAKE_UNHEALTHY="$B" run_deploy "$B"
	expect_rc 1
	[[ $(count "^health of $B: fail") -eq 10 ]] || die "want 10 failed health checks of $B, got $(count "^health of $B: fail")"
	[[ $(count '^sleep 5$') -eq 9 ]] || die "want 9 pauses of 5 s between the checks, got $(count '^sleep 5$')"
	in_order "^IMAGE_TAG=$B $UP app worker\$" "^health of $B: fail" "^IMAGE_TAG=$A $UP app worker\$" "^health of $A: ok"
	hasnt '^smoke '
	hasnt 'docker image (rm|prune)'
	said "::error::deploy: course-supporter:$B did not become healthy"
	said "rolled back to $A, which is healthy"
	[[ $(command git -C "$dir" rev-parse HEAD) == "$A" ]] || die "checkout not back at $A"
	recorded current "$A"
}

test_failed_migration_switches_nothing() {
	setup "$A"
	FAKE_MIGRATE_FAIL=1 run_deploy "$B"
	expect_rc 1
	hasnt "$UP"
	hasnt "$HEALTH"
	said "::error::deploy: migrations failed; nothing was switched"
	recorded current "$A"
	[[ $(cat "$state/running") == "$A" ]] || die "$A should still be running"
}

test_failed_smoke_test_rolls_back() {
	setup "$A"
	FAKE_SMOKE_FAIL=1 run_deploy "$B"
	expect_rc 1
	in_order "^health of $B: ok" "^smoke argv=" "^IMAGE_TAG=$A $UP app worker\$" "^health of $A: ok"
	said "smoke test against https://api.example.test failed"
	recorded current "$A"
}

test_smoke_key_travels_in_the_environment_never_in_argv() {
	setup "$A"
	SMOKE_URL=https://staging.example.test run_deploy "$B"
	expect_rc 0
	has '^smoke argv=\[https://staging.example.test\] key_in_env=yes$'
	! grep -q -F "$KEY" "$state/calls" || die "the key appears in a command line"
	! grep -q -F "$KEY" "$t/out" || die "the key appears in the output"
}

test_empty_smoke_key_skips_the_smoke_test_with_a_notice() {
	setup "$A"
	SMOKE_KEY="" run_deploy "$B"
	expect_rc 0
	hasnt '^smoke '
	said "::notice::deploy: SMOKE_TEST_API_KEY is empty: smoke test skipped"
	recorded current "$B"
}

test_prune_removes_only_this_projects_old_tags() {
	setup "$B"
	printf '%s\n' old1 old2 "$A" >>"$state/images"
	echo "$A" >"$dir/.deploy/previous"
	run_deploy "$C"
	expect_rc 0
	has '^IMAGE_TAG= docker image rm course-supporter:old1$'
	has '^IMAGE_TAG= docker image rm course-supporter:old2$'
	has "^IMAGE_TAG= docker image rm course-supporter:$A\$"
	hasnt "docker image rm course-supporter:($B|$C)\$"
	hasnt 'prune -a|system prune|builder prune|volume prune'
	[[ $(sort "$state/images" | tr '\n' ' ') == "$(printf '%s\n' "$B" "$C" | sort | tr '\n' ' ')" ]] ||
		die "images left: $(tr '\n' ' ' <"$state/images"), want $B and $C"
	recorded current "$C"
	recorded previous "$B"
}

test_first_deploy_that_fails_health_fails_loudly_without_rollback() {
	setup ""
	FAKE_UNHEALTHY="$A" FAKE_DB_DOWN=1 run_deploy "$A"
	expect_rc 1
	[[ $(count "$UP") -eq 1 ]] || die "want no rollback switch"
	said "nothing to roll back to"
	said "::notice::deploy: course-supporter-db is not running: no pre-migration dump"
	[[ ! -e $dir/.deploy/current ]] || die ".deploy/current written for a failed deploy"
}

test_unhealthy_rollback_fails_loudly() {
	setup "$A"
	FAKE_UNHEALTHY="$A $B" run_deploy "$B"
	expect_rc 1
	[[ $(count "^health of $A: fail") -eq 10 ]] || die "want the rollback's own health loop of 10 checks"
	said "ROLLBACK UNHEALTHY"
}

test_redeploying_the_running_commit_keeps_the_older_rollback_target() {
	setup "$B"
	echo "$A" >"$dir/.deploy/previous"
	echo "$A" >>"$state/images"
	FAKE_UNHEALTHY="$B" run_deploy "$B"
	expect_rc 1
	has "^IMAGE_TAG=$A $UP app worker\$"
}

test_worker_is_switched_only_when_its_profile_is_enabled() {
	setup "$A"
	FAKE_NO_WORKER=1 run_deploy "$B"
	expect_rc 0
	has "^IMAGE_TAG=$B $UP app\$"
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
	hasnt 'docker'
}

test_an_unknown_commit_fails_before_the_build() {
	setup "$A"
	run_deploy 0123456789abcdef0123456789abcdef01234567
	expect_rc 1
	said "is not in origin"
	hasnt 'docker build'
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

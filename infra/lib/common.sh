# shellcheck shell=bash
# Helpers shared by the operations scripts (scripts/backup.sh, restore*.sh,
# cert-*.sh). Sourced, never executed. Bash.
#
# Configuration comes from the environment first, then from the project's
# .env.prod (CS_ENV_FILE overrides the path) and, when set, CS_EXTRA_ENV_FILE
# (the backup scripts' host-only secrets), the latter winning. A timer unit
# and an operator at a shell see the same values; tests inject their own.
# The env file is parsed, not sourced: it is written for Docker (values with
# spaces, no quoting rules), and sourcing it would also execute it.

cs_log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${CS_LOG_TAG:-course-supporter}" "$*" >&2; }
cs_die() {
	cs_log "error: $*"
	exit 1
}

# cs_env_file prints the project env file path (may not exist).
cs_env_file() { printf '%s\n' "${CS_ENV_FILE:-${CS_PROJECT_DIR:-.}/.env.prod}"; }

# cs_env_get KEY prints KEY's value from the env files (last assignment wins;
# one pair of surrounding quotes is removed), or nothing.
cs_env_get() {
	local file line value=""
	for file in "$(cs_env_file)" ${CS_EXTRA_ENV_FILE:+"$CS_EXTRA_ENV_FILE"}; do
		[[ -r "$file" ]] || continue
		while IFS= read -r line || [[ -n "$line" ]]; do
			line="${line#"${line%%[![:space:]]*}"}"
			[[ "$line" == "$1="* ]] || continue
			value="${line#*=}"
			if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
				value="${BASH_REMATCH[1]}"
			fi
		done <"$file"
	done
	printf '%s' "$value"
}

# cs_load KEY... sets every KEY that the environment leaves unset from the
# env file. An empty value in the environment counts as set.
cs_load() {
	local key
	for key in "$@"; do
		if [[ -z "${!key+x}" ]]; then
			printf -v "$key" '%s' "$(cs_env_get "$key")"
			export "${key?}"
		fi
	done
}

# cs_require KEY... fails with one line per missing value.
cs_require() {
	local key missing=0
	for key in "$@"; do
		if [[ -z "${!key:-}" ]]; then
			cs_log "error: $key is not set (environment or $(cs_env_file))"
			missing=1
		fi
	done
	[[ $missing == 0 ]] || exit 2
}

# cs_words NAME VALUE splits a command line such as "docker exec -i db" into
# the array NAME (plain word splitting: no quotes inside the value).
cs_words() {
	local -n _out="$1"
	read -r -a _out <<<"$2"
}

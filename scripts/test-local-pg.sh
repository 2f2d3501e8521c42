#!/usr/bin/env bash
# Tests of scripts/local-pg.sh's Debian mirror lookup (part of make
# test-deploy): the mirror comes from the machine's own apt sources, so
# local mirrors and caching proxies work. Pure bash on fixture files
# (CS_APT_ETC); nothing is downloaded. Ends with "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/cs-test-local-pg.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# check NAME WANT: the mirror local-pg.sh picks for the fixture in $work/NAME.
check() {
	local got
	got=$(env -u CS_DEBIAN_MIRROR CS_APT_ETC="$work/$1" scripts/local-pg.sh mirror 2>&1) || got="exit $?: $got"
	if [[ $got == "$2" ]]; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1: got '$got', want '$2'"
	fi
}
fixture() { mkdir -p "$work/$1/sources.list.d"; }

# deb822 with a snapshot comment and the security archive first.
fixture deb822_skips_security_and_comments
cat >"$work/deb822_skips_security_and_comments/sources.list.d/debian.sources" <<'S'
Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://mirror.local/debian http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
S
check deb822_skips_security_and_comments http://mirror.local/debian

fixture apt_cacher_proxy_url_in_a_one_line_list
printf '%s\n' '# local cache' 'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://cache:3142/deb.debian.org/debian trixie main' \
	'deb http://security.debian.org/debian-security trixie-security main' >"$work/apt_cacher_proxy_url_in_a_one_line_list/sources.list"
check apt_cacher_proxy_url_in_a_one_line_list http://cache:3142/deb.debian.org/debian

fixture disabled_stanzas_and_deb_src_only_are_ignored
cat >"$work/disabled_stanzas_and_deb_src_only_are_ignored/sources.list.d/a.sources" <<'S'
Types: deb
URIs: http://disabled.local/debian
Suites: trixie
Components: main
Enabled: no

Types: deb-src
URIs: http://src-only.local/debian
Suites: trixie
Components: main

Types: deb
URIs: http://ok.local/debian
Suites: trixie
Components: main
S
check disabled_stanzas_and_deb_src_only_are_ignored http://ok.local/debian

fixture ubuntu_and_third_party_fall_back_to_deb_debian_org
printf '%s\n' 'deb http://archive.ubuntu.com/ubuntu noble main' 'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main' \
	>"$work/ubuntu_and_third_party_fall_back_to_deb_debian_org/sources.list"
check ubuntu_and_third_party_fall_back_to_deb_debian_org http://deb.debian.org/debian

fixture no_sources_at_all
check no_sources_at_all http://deb.debian.org/debian

# An explicit CS_DEBIAN_MIRROR wins over the sources.
if [[ $(CS_DEBIAN_MIRROR=http://explicit.local/debian CS_APT_ETC="$work/deb822_skips_security_and_comments" scripts/local-pg.sh mirror) == http://explicit.local/debian ]]; then
	passed=$((passed + 1))
	echo "ok   CS_DEBIAN_MIRROR_wins"
else
	failed=$((failed + 1))
	echo "FAIL CS_DEBIAN_MIRROR_wins"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

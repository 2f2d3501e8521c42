#!/usr/bin/env bash
# Forced command of the CI deploy key (docs/operations/host.md):
#
#   restrict,command="/opt/course-supporter/scripts/deploy-ssh-gate.sh" ssh-ed25519 AAAA… github-deploy
#
# The deploy workflow connects with the command `bash -s -- <sha> <digest>`
# and pipes the target commit's scripts/deploy.sh to it. Anything else (an
# interactive shell, scp, another command) is refused, so the key is only
# good for starting a deploy. Note what it cannot prevent: the piped script
# runs as the deploy user, who is in the docker group; the real guard is the
# GitHub environment "production" that holds the key.
set -euo pipefail
re='^bash -s -- [0-9a-f]{40} sha256:[0-9a-f]{64}$'
if [[ ! ${SSH_ORIGINAL_COMMAND:-} =~ $re ]]; then
	echo "deploy-ssh-gate: refused: this key only runs deploys" >&2
	logger -t course-supporter-deploy "refused ssh command: ${SSH_ORIGINAL_COMMAND:-<interactive>}" 2>/dev/null || true
	exit 1
fi
read -r -a argv <<<"$SSH_ORIGINAL_COMMAND"
exec "${argv[@]}"

#!/bin/sh
# Entrypoint of the edge nginx (compose profile "edge"): renders the site
# from the templates (render.sh; HTTP only until the certificate exists),
# then runs the official image's entrypoint with the command.
#
# infra/nginx is mounted as a directory at /etc/nginx/cs, so after a deploy
# checks out new templates, `sh /etc/nginx/cs/render.sh && nginx -s reload`
# inside the running container applies exactly those (scripts/deploy.sh).
set -eu
sh /etc/nginx/cs/render.sh
exec /docker-entrypoint.sh "$@"

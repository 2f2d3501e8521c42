# syntax=docker/dockerfile:1.7@sha256:a57df69d0ea827fb7266491f2813635de6f17269be881f696fbfdf2d83dda33e
#
# course-supporter container image.
#
# Targets (docker buildx build --target <name>):
#   full  (default, last stage) Debian slim with ffmpeg and poppler-utils. Use it
#         for anything that processes uploaded material: ffmpeg extracts the
#         audio track from videos, pdftotext (poppler-utils) extracts PDF text.
#   api   distroless static, no shell and no package manager. Use it for
#         replicas that only serve HTTP and never run the media tools. Smaller
#         image, far less CVE noise, nothing for an attacker to exec.
# The binary is the same in both; only the runtime around it differs.
#
# Build:
#   docker buildx build \
#     --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) \
#     -t course-supporter:full .                 # or --target api
#
# Every base image is pinned by tag AND digest. The tag says what it is for
# humans and for update bots (Renovate/Dependabot bump both together); the
# digest makes the build reproducible and stops a re-pushed or compromised
# tag from silently changing what we ship. Digests are multi-arch index
# digests, so amd64 and arm64 builds both work. To refresh one:
#   docker buildx imagetools inspect <image>:<tag>   (use the top "Digest:")
# The syntax line above is pinned the same way (docker/dockerfile:1.7; digest
# as pinned in gurufinglobal/guru and tyhuang9/rig).

# -----------------------------------------------------------------------------
# Builder
# -----------------------------------------------------------------------------
# golang:1.26.9-bookworm — go.mod requires go >= 1.26.0.
# Digest source: cyberducttape/StePanel Dockerfile (also pinned identically in
# FroZor/loreva-agent and other public Dockerfiles).
# --platform=$BUILDPLATFORM: compile natively and cross-compile with
# GOOS/GOARCH (pure Go, CGO_ENABLED=0) instead of emulating the toolchain.
FROM --platform=$BUILDPLATFORM golang:1.26.9-bookworm@sha256:d9c68c2c51161e12fd77e4c6320687c9cd86e1af1e3ad6e6cd63ff970641453c AS build

# GOTOOLCHAIN=local: use the pinned compiler above; never download a different
# toolchain mid-build (that would bypass the digest pin).
ENV CGO_ENABLED=0 \
    GOTOOLCHAIN=local

WORKDIR /src

# Dependencies first, in their own layer: this only re-runs when go.mod or
# go.sum change. The cache mount keeps the module cache across builds without
# baking it into a layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .

# Declared after the dependency layer so that a new VERSION/COMMIT/BUILD_DATE
# does not invalidate the go mod download cache above.
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown

RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS="${TARGETOS:-linux}" GOARCH="${TARGETARCH}" \
    go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.buildDate=${BUILD_DATE}" \
      -o /out/course-supporter ./app/cmd/course-supporter

# -----------------------------------------------------------------------------
# api: distroless static, no shell
# -----------------------------------------------------------------------------
# gcr.io/distroless/static-debian13:nonroot. Digest source:
# karelvanhecke/kubelet-serving-approver and tyhuang9/rig (the latter pairs it
# with the golang 1.26 bookworm builder). Already contains CA certificates,
# tzdata and /tmp, which is all a static Go binary needs.
FROM gcr.io/distroless/static-debian13:nonroot@sha256:1c2c046bc09ed40fad370b599a0b1ae7987f55b01e247cf27a7c27cd97e5bbc7 AS api

ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
ARG SOURCE=https://github.com/course-supporter/course-supporter

LABEL org.opencontainers.image.title="course-supporter" \
      org.opencontainers.image.description="course-supporter API server (distroless, no media tools)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="${SOURCE}"

# Owned by root and not writable by the runtime user.
COPY --from=build /out/course-supporter /usr/local/bin/course-supporter

# Same numeric uid/gid as the full image (not distroless' 65532) so volumes and
# file ownership behave identically whichever target is deployed. Numeric, so
# no /etc/passwd entry is needed.
USER 10001:10001

# 8000: public HTTP API (HTTP_ADDR). 9090: internal /metrics and /livez
# (METRICS_ADDR), never exposed publicly.
EXPOSE 8000 9090

# Exec form: there is no shell here. The binary probes itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["course-supporter", "healthcheck"]

ENTRYPOINT ["course-supporter"]
CMD ["serve"]

# -----------------------------------------------------------------------------
# full: Debian slim + ffmpeg + poppler-utils (DEFAULT target: keep it last)
# -----------------------------------------------------------------------------
# debian:trixie-slim. Digest source: BenDManning/jetkvm-mcp Dockerfile (the
# same digest is pinned as debian:13-slim in monetr/monetr).
FROM debian:trixie-slim@sha256:d7e12182ce18b85b93007c1dedf31f2d29e01ccf3182cc4017c709b6259bc132 AS full

# Packages, and nothing they merely recommend:
#   ca-certificates  TLS to object storage, OAuth/LLM APIs, etc.
#   tzdata           zone database for time.LoadLocation.
#   ffmpeg           extracts the audio track from uploaded videos for
#                    transcription.
#   poppler-utils    provides pdftotext, used to extract text from PDFs.
# Versions are not pinned: the base digest fixes the starting point and we want
# Debian security updates on every rebuild. Apt lists are removed so they do
# not bloat the layer.
# The app user is a system user (-r) with a fixed uid/gid 10001 and no home.
# /var/tmp/course-supporter is the worker scratch dir (WORKER_TMP_DIR) for
# extracted audio and text; /var/tmp rather than /tmp because intermediates
# can be large and /tmp is often a small tmpfs.
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      tzdata \
      ffmpeg \
      poppler-utils; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd -r -g 10001 course-supporter; \
    useradd -r -u 10001 -g 10001 -M -d /nonexistent -s /usr/sbin/nologin course-supporter; \
    install -d -o 10001 -g 10001 -m 0750 /var/tmp/course-supporter

# Build metadata after the apt layer: new values do not force a reinstall.
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
ARG SOURCE=https://github.com/course-supporter/course-supporter

LABEL org.opencontainers.image.title="course-supporter" \
      org.opencontainers.image.description="course-supporter API and worker (with ffmpeg and poppler-utils)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="${SOURCE}"

ENV WORKER_TMP_DIR=/var/tmp/course-supporter

# Owned by root and not writable by the runtime user.
COPY --from=build /out/course-supporter /usr/local/bin/course-supporter

USER 10001:10001

# 8000: public HTTP API (HTTP_ADDR). 9090: internal /metrics and /livez
# (METRICS_ADDR), never exposed publicly.
EXPOSE 8000 9090

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["course-supporter", "healthcheck"]

ENTRYPOINT ["course-supporter"]
CMD ["serve"]

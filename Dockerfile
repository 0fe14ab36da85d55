# memify-worker in a container. Built with the official Swift image by scripts/package, run on
# debian:bookworm-slim from the very .deb that scripts/test-package installs and runs in CI
# (apt-get resolves the .deb's Depends and Recommends; its postinst creates the memify user).
# This file itself is not built in CI (no container engine there): keep it to installing that
# .deb, so the image holds nothing the tested package does not.
#
#   docker build --build-arg MEMIFY_COMMIT="$(git rev-parse --short=12 HEAD)" -t memify-worker .
#   docker run --rm --env-file /etc/memify-worker/env -v memify-state:/var/lib/memify-worker memify-worker
#
# The state (and the embedded graph, when MEMIFY_GRAPH_URL names none) lives in the volume at
# /var/lib/memify-worker; configuration comes from the environment (the README's variables,
# cognee's included). Any other command: docker run … memify-worker status, graph stats, ….
ARG SWIFT_IMAGE=swift:6.3-bookworm

FROM ${SWIFT_IMAGE} AS build
# .dockerignore leaves .git out: the commit comes in as an argument ("unknown" without it).
ARG MEMIFY_COMMIT=unknown
WORKDIR /src
COPY . .
RUN scripts/install-packages package \
 && MEMIFY_COMMIT="${MEMIFY_COMMIT}" scripts/package

FROM debian:bookworm-slim
COPY --from=build /src/dist/ /tmp/dist/
RUN apt-get update \
 && apt-get install -y /tmp/dist/memify-worker_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/dist
USER memify
WORKDIR /var/lib/memify-worker
VOLUME /var/lib/memify-worker
ENTRYPOINT ["/usr/bin/memify-worker"]
CMD ["run", "--state", "/var/lib/memify-worker/state.db", "--log-format", "json", "--no-progress"]

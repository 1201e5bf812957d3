# syntax=docker/dockerfile:1
#
# scrm container image: one binary (`scrm`) that runs every service and the gateway
# (`scrm serve`), or a subset of services (`scrm serve --services <name>`).
#
#   docker build -t scrm .
#   docker run --rm -p 8080:8080 -v scrm-data:/var/lib/scrm scrm
#
# The build uses BuildKit cache mounts (the default builder in current Docker) so
# that rebuilds reuse the cargo registry and the target directory.

# ---------------------------------------------------------------------------
# Builder: compiles the Rust workspace and, once it exists, the web admin.
# ---------------------------------------------------------------------------
FROM rust:1-bookworm AS builder

WORKDIR /src
COPY . .

# Web admin (web/admin). It lands after the backend, so this step is guarded:
# without web/admin/package.json nothing is installed and /out/web stays empty.
# Node.js and npm come from Debian's own packages.
RUN set -eux; \
    mkdir -p /out/web; \
    if [ -f web/admin/package.json ]; then \
        apt-get update; \
        apt-get install -y --no-install-recommends nodejs npm; \
        rm -rf /var/lib/apt/lists/*; \
        cd web/admin; \
        if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi; \
        npm run build; \
        cp -a dist/. /out/web/; \
    else \
        echo "web/admin/package.json not found: building without the web admin"; \
    fi

# The server binary. target/ lives in a cache mount, so the binary is copied out
# of it within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    set -eux; \
    cargo build --release --locked -p scrm; \
    install -D -m 0755 target/release/scrm /out/scrm

# ---------------------------------------------------------------------------
# Runtime: a slim Debian with CA certificates and an unprivileged user.
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 10001 scrm; \
    useradd --system --uid 10001 --gid scrm --home-dir /var/lib/scrm --no-create-home \
        --shell /usr/sbin/nologin scrm; \
    mkdir -p /var/lib/scrm /usr/share/scrm/web; \
    chown scrm:scrm /var/lib/scrm

COPY --from=builder /out/scrm /usr/local/bin/scrm
# Empty when the image was built without the web admin.
COPY --from=builder /out/web/ /usr/share/scrm/web/

ENV SCRM_DATA_DIR=/var/lib/scrm \
    SCRM_SERVER_LISTEN=0.0.0.0:8080 \
    SCRM_SERVER_STATIC_DIR=/usr/share/scrm/web

VOLUME ["/var/lib/scrm"]
WORKDIR /var/lib/scrm
EXPOSE 8080

# Numeric uid:gid so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001

# No HEALTHCHECK: Kubernetes probes /healthz and /readyz (see helm/README.md).
ENTRYPOINT ["scrm"]
CMD ["serve"]

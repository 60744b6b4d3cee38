# syntax=docker/dockerfile:1
#
# randchat container image: one static-ish binary on Debian slim.
#
#   docker build -t randchat .
#   docker run -d --name randchat -e BOT_TOKEN=... -v randchat-data:/data -p 127.0.0.1:8080:8080 randchat
#
# Two stages: the builder compiles with the release profile (fat LTO, one
# codegen unit, stripped); the runtime stage holds the binary, CA
# certificates and nothing else. See docs/deploy/docker.md.

ARG RUST_IMAGE=rust:1-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS builder
# make: the allocator (jemalloc, through tikv-jemallocator) is built from its
# C sources with its configure script and make; the slim Rust image has gcc
# but not make. Unpinned for the same reason as below.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, against stub sources: this layer is reused until
# Cargo.toml or Cargo.lock change, so editing src/ rebuilds only randchat.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/engine.rs \
    && echo 'fn main() {}' > benches/loadgen.rs \
    && echo 'fn main() {}' > benches/store.rs \
    && cargo build --release --locked \
    && rm -rf src benches

COPY src ./src
COPY benches ./benches
# touch: the stubs' build outputs are newer than the checked-out sources.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && cp target/release/randchat /usr/local/bin/randchat \
    && /usr/local/bin/randchat --version

FROM ${RUNTIME_IMAGE}

# ca-certificates: TLS to api.telegram.org. Versions are not pinned on
# purpose: a rebuild should pick up Debian's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 randchat \
    && useradd --system --uid 10001 --gid randchat --home-dir /data --shell /usr/sbin/nologin randchat \
    && mkdir -p /data \
    && chown randchat:randchat /data

COPY --from=builder /usr/local/bin/randchat /usr/local/bin/randchat

# The database (randchat.redb) and the control socket live in /data.
# ADMIN_LISTEN binds all interfaces inside the container so the platform
# can probe /healthz; publish the port only to where probes come from.
ENV DATA_DIR=/data \
    ADMIN_LISTEN=0.0.0.0:8080 \
    NO_COLOR=1
VOLUME ["/data"]
WORKDIR /data
# Numeric, so runtimes can check "runAsNonRoot" without reading /etc/passwd.
# Platforms that mount volumes owned by root (Railway, some Fly.io setups)
# can build with --build-arg APP_USER=0:0; see docs/deploy/.
ARG APP_USER=10001:10001
USER ${APP_USER}
EXPOSE 8080

# No curl in the image: the binary probes its own /healthz (exit 0 or 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["randchat", "healthcheck"]

# Exec form: randchat is PID 1 and receives SIGTERM from `docker stop`
# directly; it finishes the batch in progress and exits (within 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["randchat"]
CMD ["run"]

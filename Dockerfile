# syntax=docker/dockerfile:1
# AtendeAI node image (deploy/README.md, "Container image").
#   docker build -t atendeai:0.1.0 .
#   docker run --rm atendeai:0.1.0 migrate up          # one-shot: schema migrations
#   docker run -p 8080:8080 -e ATENDEAI_DATABASE_URL=... atendeai:0.1.0
# Configuration: ATENDEAI_<SECTION>_<KEY> variables (config/atendeai.example.toml) or a
# TOML file named by ATENDEAI_CONFIG. The node refuses unknown ATENDEAI_* variables.

# -- build: the packages of deploy/common.sh that the build needs ----------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libcaf-dev librestinio-dev libasio-dev libhttp-parser-dev libfmt-dev libpqxx-dev libpq-dev \
      libhiredis-dev nlohmann-json3-dev libspdlog-dev libtomlplusplus-dev \
      libhowardhinnant-date-dev tzdata libcurl4-openssl-dev libssl-dev libcrypt-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DATENDEAI_BUILD_TESTS=OFF \
 && cmake --build /build --target atendeai \
 && strip /build/app/atendeai \
 && mkdir -p /out \
 && cp /build/app/atendeai /out/atendeai \
 && cp config/atendeai.example.toml /out/

# -- runtime: the shared libraries the binary links and nothing else --------------------
# (tests/deploy/static_checks.sh keeps this list equal to the Debian packages of the
# binary's shared libraries, less those of the base image: libc6, libstdc++6, libcrypt1...)
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcaf-core0.17 libcaf-io0.17 libcaf-openssl0.17 libcurl4 libdate-tz3 libfmt9 libhiredis0.14 \
      libhttp-parser2.9 libjemalloc2 libpq5 libpqxx-6.4 libspdlog1.10 libssl3 libtomlplusplus3 \
      tzdata ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 atendeai \
 && useradd --system --uid 10001 --gid atendeai --home-dir /var/lib/atendeai --shell /usr/sbin/nologin atendeai \
 && mkdir -p /var/lib/atendeai /etc/atendeai \
 && chown atendeai:atendeai /var/lib/atendeai
COPY --from=build /out/atendeai /usr/local/bin/atendeai
COPY --from=build /out/atendeai.example.toml /etc/atendeai/atendeai.example.toml
# Listen on every interface inside the container (the default is loopback); runtime
# files (sink, mail) under the writable state folder; no demo clinic in production.
ENV ATENDEAI_HTTP_HOST=0.0.0.0 \
    ATENDEAI_PATHS_VAR_DIR=/var/lib/atendeai \
    ATENDEAI_DEMO_ENABLED=false \
    ATENDEAI_LOG_FORMAT=json
USER atendeai:atendeai
WORKDIR /var/lib/atendeai
EXPOSE 8080 4200
# 200 while PostgreSQL answers (Redis lost: degraded, still 200); 503 while stopping.
# (With http.tls_cert set, the listener speaks HTTPS: the check tries both.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${ATENDEAI_HTTP_PORT:-8080}/health" \
   || curl -fsSk -o /dev/null "https://127.0.0.1:${ATENDEAI_HTTP_PORT:-8080}/health"
# SIGTERM drains: /health answers 503, requests in flight are answered, then the node
# exits within shutdown.timeout_s (20 s, under Docker's and Kubernetes' grace periods).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/atendeai"]
CMD ["serve"]

# One image per service, from this one file: pass --build-arg SERVICE=strava-gateway or
# SERVICE=talk-app. Dependencies build in their own layer, so source edits reuse it.
# syntax=docker/dockerfile:1
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
ARG SERVICE
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p "${SERVICE}" \
 && cp "target/release/${SERVICE}" /service

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home stravatalk
COPY --from=build /service /usr/local/bin/service
USER stravatalk
ENV BIND_ADDRESS=0.0.0.0 LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS "http://127.0.0.1:${PORT:-8080}/healthz" || exit 1
ENTRYPOINT ["/usr/local/bin/service"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# The image of talk-app, the chat (its CSS and script are compiled into the binary).
# Build from the repository root: docker build -f deploy/talk-app.Dockerfile .

# Dependencies compile in their own layer (cargo-chef), so a source change rebuilds
# only the workspace's own crates.
FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json -p talk-app
COPY . .
# The same command CI uses to build the binary this image runs.
RUN cargo build --release --locked -p talk-app --bin talk-app

FROM debian:bookworm-slim AS runtime
# Strava's API (and a hosted language model, or a verify-full DATABASE_URL) are reached
# over TLS, verified against the system's CA bundle, which slim images leave out.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin stravatalk
COPY --from=build /src/target/release/talk-app /usr/local/bin/talk-app
USER 10001:10001
ENV BIND_ADDRESS=0.0.0.0 PORT=8080 LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["/usr/local/bin/talk-app", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/talk-app"]
CMD ["serve"]

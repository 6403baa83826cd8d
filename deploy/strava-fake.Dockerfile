# syntax=docker/dockerfile:1
# The image of the fake Strava for `docker compose --profile demo` (never deployed).
# Build from the repository root: docker build -f deploy/strava-fake.Dockerfile .

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
RUN cargo chef cook --release --locked --recipe-path recipe.json -p strava-fake
COPY . .
# The same command CI uses to build the binary this image runs.
RUN cargo build --release --locked -p strava-fake --bin strava-fake

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin stravatalk
COPY --from=build /src/target/release/strava-fake /usr/local/bin/strava-fake
USER 10001:10001
# The fake reads its flags only.
EXPOSE 8090
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/strava-fake", "--host", "0.0.0.0"]
CMD ["--port", "8090"]

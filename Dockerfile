# syntax=docker/dockerfile:1
# restaurant-tui in a container: a release build from the locked dependencies, then a small
# runtime image that runs it as an unprivileged user. docker-compose.yml runs `serve`, two
# workers and `notify` from it.

FROM rust:1.89-bookworm AS build
WORKDIR /src
# The manifest and lock first, so the dependencies' layer is reused while only src changes.
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY build.rs build.rs
# Cargo.toml names the benches; they must be present for the manifest to load.
COPY benches benches
RUN cargo build --release --locked --bin restaurant-tui

FROM debian:bookworm-slim
# CA roots for amqps:// and sslmode=require; curl for the health checks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /home/kitchen --shell /usr/sbin/nologin kitchen
COPY --from=build /src/target/release/restaurant-tui /usr/local/bin/restaurant-tui
USER kitchen
WORKDIR /home/kitchen
# Reachable from other containers; beyond loopback a bearer token is required
# (RESTAURANT_SERVER__TOKEN), and the program refuses to start without one.
ENV RESTAURANT_SERVER__HOST=0.0.0.0
EXPOSE 3000
ENTRYPOINT ["restaurant-tui"]
CMD ["serve"]

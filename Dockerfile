# Gatehouse container image.
#
#   docker build -t gatehouse .
#   docker run -p 8080:8080 gatehouse                      # embedded PGlite + in-memory store in /app/data
#   docker compose up                                      # with Postgres and Redis (docker-compose.yml)
#   docker build --target deno -t gatehouse:deno .         # the same server on Deno (npm run start:deno)
#
# For reproducible builds, also pin both base images by digest, e.g.
#   FROM oven/bun:1.4.5-slim@sha256:<digest>
# (`docker buildx imagetools inspect oven/bun:1.4.5-slim` prints it). A tag can be re-pushed; a digest cannot.

# ---------------------------------------------------------------------------------------------
# Stage 1: production dependencies, installed frozen from package-lock.json.
#
# The project's only lockfile is package-lock.json (npm); there is no bun.lock, and generating
# one at build time would resolve versions anew, i.e. not be frozen. The oven/bun images ship no
# npm, so this stage uses the official Node image and `npm ci`, which installs exactly what
# package-lock.json records (integrity-checked) and fails if package.json and the lockfile disagree.
#   --omit=dev       production dependencies only (drops bun, deno, typescript, test tooling).
#   --ignore-scripts no lifecycle scripts run. In the lockfile only devDependencies (bun, deno)
#                    have install scripts; the one native module, @node-rs/argon2, ships prebuilt
#                    binaries as per-platform optionalDependencies, so nothing needs building.
# Both stages are Debian 12 "bookworm" (glibc), so npm selects @node-rs/argon2-linux-<arch>-gnu,
# the variant the runtime stage can load; the `require` below fails the build if it cannot. Do
# not add `--platform=$BUILDPLATFORM` to this stage: the optional binary must be chosen for the
# target platform, as the runtime stage uses it.
# The lockfile records every platform package of the dev runtimes (deno is pinned to a version
# published for all platforms), so `npm ci` accepts it with npm 10 and npm 11 alike.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && node -e "require('@node-rs/argon2')"

# ---------------------------------------------------------------------------------------------
# Stage 2 (`--target deno`): the same sources and production node_modules on Deno, started as
# `npm run start:deno` does. Debian-based like the deps stage, so its glibc argon2 binary loads.
# Not the default target: the last stage (Bun) is.
FROM denoland/deno:debian-2.9.5 AS deno
WORKDIR /app

# DENO_DIR: Deno's cache of transpiled sources, filled at build time (below) so start-up does not
# compile, and owned by the service user.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DENO_DIR=/app/.deno-cache

COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY workers ./workers

# uid/gid 1993 is the image's `deno` user; /app/data is the only path the service writes, besides
# the cache it owns.
RUN mkdir -p /app/data /app/.deno-cache && chown 1993:1993 /app/data /app/.deno-cache && chmod 0750 /app/data
VOLUME ["/app/data"]
USER 1993:1993
RUN deno cache src/main.deno.ts workers/crypto.worker.ts

EXPOSE 8080

# src/main.deno.ts handles SIGTERM exactly as src/main.ts does.
STOPSIGNAL SIGTERM

# Liveness only, as in the Bun image; Deno's eval needs no curl either.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:' + (Deno.env.get('PORT') || '8080') + '/livez', { signal: AbortSignal.timeout(2500) }); Deno.exit(r.ok ? 0 : 1)"]

# Same command as `npm run start:deno` (package.json), in exec form so deno is PID 1.
ENTRYPOINT ["deno", "run", "-A", "src/main.deno.ts"]

# ---------------------------------------------------------------------------------------------
# Stage 3 (default): runtime. Bun runs the TypeScript sources directly; there is no build step.
FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app

# BUN_CONFIG_MAX_HTTP_REQUESTS: Bun's fetch() allows 256 requests in flight by default, which
# would cap concurrent LLM streams through the gateway; it is read at process start.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 BUN_CONFIG_MAX_HTTP_REQUESTS=65535

# Dependencies and code stay owned by root: the service user can read them but not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY workers ./workers

# ./data (GATEHOUSE_DATA_DIR): embedded PGlite, the generated secret key and JWT keys. It is the
# only path the service writes. uid/gid 1000 is the image's `bun` user; numeric so that
# orchestrators (e.g. Kubernetes runAsNonRoot) can verify it is not root.
RUN mkdir -p /app/data && chown 1000:1000 /app/data && chmod 0750 /app/data
VOLUME ["/app/data"]
USER 1000:1000

EXPOSE 8080

# src/main.ts handles SIGTERM: readiness off, in-flight requests finish, pools close, exit 0
# (forced exit after GATEHOUSE_SHUTDOWN_TIMEOUT_MS, default 10 s; keep `docker stop -t` above it).
STOPSIGNAL SIGTERM

# Liveness only (/livez touches neither Postgres nor Redis), so a database outage does not get a
# healthy process restarted. Uses bun itself: the slim image has no curl or wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT || '8080') + '/livez', { signal: AbortSignal.timeout(2500) }); process.exit(r.ok ? 0 : 1)"]

# Same command as `npm start` (package.json), in exec form so bun is PID 1 and receives SIGTERM.
ENTRYPOINT ["bun", "--max-http-header-size=262144", "src/main.ts"]

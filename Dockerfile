# syntax=docker/dockerfile:1
#
# deploy-check: the Slack bot, its queue workers and the CLI in one image.
#
#   docker build -t deploy-check .
#   bot:     docker run -p 3000:3000 --env-file deploy-check.env deploy-check
#   worker:  docker run --env-file deploy-check.env deploy-check node --max-semi-space-size=8 dist/jobs/worker.js
#   CLI:     docker run --rm deploy-check node dist/cli/deploy-check.js run clientsvia --var baseUrl=https://staging.example.com
#
# Environment variables: docs/OPERATIONS.md. Own checklists: mount them over /app/checklists (or set
# CHECKLISTS_DIR). A worker serves no HTTP, so its container has no healthcheck to pass: run it with
# --no-healthcheck (compose: `healthcheck: { disable: true }`, as in examples/compose.yml).
# --max-semi-space-size=8 is for workers only: a smaller young generation keeps a long-lived worker's
# RSS flat (+1.5% from 100 to 1,000 runs instead of +22%), but costs the bot 10–50% more CPU per
# request under load (bench/worker-memory.ts, bench/ack-path.ts --variant; bench/RESULTS.md).

# ---- build: compile TypeScript to dist/ --------------------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script to build or run (the optional native msgpackr-extract falls back).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY jobs ./jobs
COPY examples ./examples
COPY scripts/bundle-cli.mjs ./scripts/
# tsconfig.build.json: src, commands, jobs, examples → dist/src/bot.js, dist/jobs/worker.js;
# scripts/bundle-cli.mjs: the CLI bundled (it starts twice as fast) → dist/cli/deploy-check.js
RUN npm run build

# ---- runtime: production dependencies, compiled code and the shipped checklists ----------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY checklists ./checklists
# The official image's unprivileged user (uid 1000); nothing under /app is writable by it.
USER node
EXPOSE 3000
# Liveness of the bot's HTTP server (the same port serves /slack/events, /readyz and /metrics).
# No curl in the slim image: Node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM (docker stop) closes the bot, and lets a worker finish its active jobs for up to
# SHUTDOWN_TIMEOUT_MS (10 s) before it lets go of them: give workers a longer stop timeout than that.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/bot.js"]

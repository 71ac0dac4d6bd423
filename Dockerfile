# syntax=docker/dockerfile:1
# mde-cancel: `docker build -t mde-cancel .`, then `docker run --env-file .env mde-cancel` runs a worker;
# any other command replaces CMD, e.g. `docker run mde-cancel enqueue <id> --comment "..."`.

# ---- build: TypeScript needs the dev dependencies; only dist/ leaves this stage ----
FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# `prepare` (the tsc build) would run here, before the sources are copied; it runs explicitly below,
# and this layer stays cached until the lockfile changes.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: production dependencies and the compiled JavaScript, run as a non-root user ----
FROM node:20-alpine AS runtime
# `mde-cancel simulator` creates its self-signed certificate with the openssl command.
RUN apk add --no-cache openssl
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` runs tsc, a dev dependency that is not installed here; dist/ comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The simulator's default certificate directory, owned by the runtime user so that a named volume
# mounted there (docker-compose.yml) starts out writable by it.
RUN mkdir -p .cache/simulator-certs && chown -R node:node .cache
USER node
# METRICS_PORT: the worker's /metrics, /healthz, /readyz; INTAKE_PORT: `serve`, the HTTP intake.
EXPOSE 9464 8080
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker"]

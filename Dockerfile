# Twofold container image: compile TypeScript in one stage, run the compiled code with production dependencies only.

# ---- build: all dependencies, tsc -> dist/ (dist/src and dist/migrations) ----
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
COPY migrations/ ./migrations/
RUN npm run build

# ---- runtime: production dependencies, compiled code, views; runs as the unprivileged node user ----
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
# Code stays owned by root so the running process cannot rewrite it; only DATA_DIR is writable by node.
COPY --from=build /app/dist/ ./dist/
COPY views/ ./views/
COPY bin/ ./bin/
# The admin CLI on the PATH: `docker compose exec node1 twofold users list`.
RUN chmod 755 bin/twofold.js && ln -s /app/bin/twofold.js /usr/local/bin/twofold
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Slim images have no curl: ask node itself (global fetch) whether /healthz answers 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The node options of `npm start` (package.json), where the README's Memory section says why.
CMD ["node", "--heap-growing-percent=150", "--max-semi-space-size=8", "--single-threaded-gc", "dist/src/main.js"]

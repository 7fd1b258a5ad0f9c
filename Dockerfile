# syntax=docker/dockerfile:1
# One image for both commands: `tollgate operator` and `tollgate dataplane` (and `run`, `simulate`).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The npm `node` devDependency is only for machines with an older system Node; the image has Node 24.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY contract ./contract
COPY dataplane ./dataplane
COPY operator ./operator
COPY scripts ./scripts
# Tests, their helpers (test/support) and the benchmark (test/bench, built by tsconfig.bench.json) stay out.
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
# openssl: the operator creates the config channel's CA with the openssl CLI (docs/adr).
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tollgate \
 && useradd --system --uid 10001 --gid tollgate --no-create-home --shell /usr/sbin/nologin tollgate
WORKDIR /app
ENV NODE_ENV=production
# A fixed malloc mmap threshold: see bin/tollgate and ADR 0036 (set GLIBC_TUNABLES="" in the pod to turn it off).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 10001:10001
EXPOSE 8080 9090 9443 8081
# --max-semi-space-size: see bin/tollgate (bounded young generation, less RSS under load).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=8", "/app/dist/bin/cli.js"]
CMD ["--help"]

/**
 * Upstream connection pools: one undici Pool per provider origin (and connect timeout), kept alive across
 * requests and config reloads; pools no config uses any more are closed gracefully. A pool has at most
 * `connections` sockets (`--upstream-connections`): a burst past it waits in the pool's queue for a free
 * connection (inside the route's time budget) instead of opening a socket per request that then idles
 * (undici's default is no cap).
 */
import { Pool } from 'undici';
import type { ProviderConfig } from '../../../contract/gateway-config.js';

export interface UpstreamTarget {
  readonly pool: Pool;
  /** `scheme://host:port` of the provider's base URL. */
  readonly origin: string;
}

/**
 * Default cap of connections per provider origin, per replica. Over HTTP/1.1 every request in flight holds one
 * connection, so this is also how many requests (long streams included) one replica runs at once against one
 * provider origin: 1,024 keeps the benchmark's 1,000 concurrent slow streams flowing.
 */
export const DEFAULT_UPSTREAM_CONNECTIONS = 1024;

export interface UpstreamPoolOptions {
  /** Most connections per origin; default DEFAULT_UPSTREAM_CONNECTIONS. */
  readonly connections?: number | undefined;
}

export class UpstreamPools {
  private readonly connections: number;
  private pools = new Map<string, Pool>();
  /** Per provider id, for the config being served. */
  private targets = new Map<string, UpstreamTarget>();

  constructor(options: UpstreamPoolOptions = {}) {
    this.connections = options.connections ?? DEFAULT_UPSTREAM_CONNECTIONS;
  }

  /** Builds the targets for a new config; pools the new config no longer needs are closed. */
  sync(providers: readonly ProviderConfig[]): Map<string, UpstreamTarget> {
    const next = new Map<string, Pool>();
    const targets = new Map<string, UpstreamTarget>();
    for (const p of providers) {
      const origin = new URL(p.baseUrl).origin;
      const key = `${origin}|${p.connectTimeoutMs}`;
      let pool = next.get(key) ?? this.pools.get(key);
      if (pool === undefined) {
        pool = new Pool(origin, {
          connect: { timeout: p.connectTimeoutMs },
          connections: this.connections,
          keepAliveTimeout: 30_000,
          // The gateway runs its own per-try timer (request timeout bounded by the route's budget).
          headersTimeout: 0,
          bodyTimeout: 0,
        });
      }
      next.set(key, pool);
      targets.set(p.id, { pool, origin });
    }
    for (const [key, pool] of this.pools) if (!next.has(key)) void pool.close().catch(() => {});
    this.pools = next;
    this.targets = targets;
    return targets;
  }

  target(providerId: string): UpstreamTarget | undefined {
    return this.targets.get(providerId);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools = new Map();
    await Promise.all(pools.map((p) => p.close().catch(() => {})));
  }
}

/**
 * The response cache a gateway process serves with (ADR 0070): on Redis when the gateway has `--redis` (every
 * replica shares the entries), else in-process (an LRU bounded in bytes). Failures of the store are counted
 * through `onError`; they never fail a request.
 */

import type { Logger } from '../log.js';
import { type AnswerCodec, ResponseCache } from './cache.js';
import { ANSWER_CODEC } from './replay.js';
import { openSemanticCache, type SemanticCache } from './semantic.js';
import { MemoryStore } from './store-memory.js';
import { RedisCacheStore } from './store-redis.js';

/** Defaults: 64 MiB in process, entries up to 1 MiB, cache reads given up after 50 ms. */
export const CACHE_DEFAULTS = { memoryBytes: 64 * 1024 * 1024, maxEntryBytes: 1024 * 1024, timeoutMs: 50 };

export interface CreateCacheOptions {
  readonly redisUrl?: string | undefined;
  readonly onError: (op: 'get' | 'set') => void;
  /** How chat answers are captured and replayed; default the canonical form (replay.ts, ADR 0073). */
  readonly codec?: AnswerCodec | undefined;
  /** The semantic index and embedder for `mode: semantic` routes, or how to open them (ResponseCacheOptions). */
  readonly semantic?: SemanticCache | (() => Promise<SemanticCache>) | undefined;
  readonly memoryBytes?: number;
  readonly maxEntryBytes?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** TOLLGATE_CACHE_MEMORY_BYTES and TOLLGATE_CACHE_MAX_ENTRY_BYTES (bytes) stand in for the sizes not given. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A positive integer from the environment, or undefined. */
function envBytes(env: NodeJS.ProcessEnv | undefined, name: string): number | undefined {
  const v = env?.[name];
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
}

export function createResponseCache(o: CreateCacheOptions): ResponseCache {
  const env = o.env ?? process.env;
  const maxEntryBytes =
    o.maxEntryBytes ?? envBytes(env, 'TOLLGATE_CACHE_MAX_ENTRY_BYTES') ?? CACHE_DEFAULTS.maxEntryBytes;
  const memoryBytes = o.memoryBytes ?? envBytes(env, 'TOLLGATE_CACHE_MEMORY_BYTES') ?? CACHE_DEFAULTS.memoryBytes;
  const store =
    o.redisUrl === undefined
      ? new MemoryStore({ maxBytes: memoryBytes, maxEntryBytes, now: o.now })
      : new RedisCacheStore({
          url: o.redisUrl,
          maxEntryBytes,
          timeoutMs: o.timeoutMs ?? CACHE_DEFAULTS.timeoutMs,
          onError: o.onError,
        });
  return new ResponseCache({ store, codec: o.codec ?? ANSWER_CODEC, now: o.now, semantic: o.semantic });
}

export interface OpenCacheOptions extends CreateCacheOptions {
  readonly logger: Logger;
  /** The gateway's own origin once it listens (loopbackOrigin); until then semantic lookups are misses. */
  readonly origin: () => string | undefined;
}

/**
 * The cache of a gateway process: the store (createResponseCache) and the semantic index and embedder
 * (ADR 0076: Redis 8 vector sets on the same Redis, else in-process), opened by the first semantic lookup.
 * Close it with ResponseCache.close.
 */
export function openResponseCache(o: OpenCacheOptions): ResponseCache {
  const semantic = () => openSemanticCache({ redisUrl: o.redisUrl, origin: o.origin, logger: o.logger });
  return createResponseCache({ ...o, semantic });
}

/** `http://<host>:<port>` of a listener for the embedder: wildcard addresses are reached on loopback. */
export function loopbackOrigin(host: string | undefined, port: number): string {
  if (host === undefined || host === '' || host === '0.0.0.0' || host === '::') return `http://127.0.0.1:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

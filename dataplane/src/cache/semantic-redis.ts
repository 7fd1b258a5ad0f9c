/**
 * The shared semantic index on Redis 8 vector sets (ADR 0077): per fingerprint, a vector set of the stored
 * prompts' unit vectors (elements: the exact-cache entry keys) and a sorted set of their expiries (vector sets
 * have no per-element TTL). One script adds (drops expired elements, caps the set, refreshes both keys' TTL);
 * one script looks up (VSIM WITHSCORES COUNT 4, the first live element). Key names: contract/shared-state.ts.
 *
 * Never throws or rejects: a Redis that is down or slow is a miss (lookup) or a dropped add, counted.
 * `openSemanticIndex` probes `COMMAND INFO VADD` once and falls back to the in-process index when the server
 * has no vector sets.
 */
import { Redis } from 'ioredis';
import { SEMANTIC_KEY_PREFIX, semanticIndexKeys } from '../../../contract/shared-state.js';
import type { Logger } from '../log.js';
import { MemoryIndex, type MemoryIndexOptions, type SemanticIndex, type SemanticMatch } from './semantic-index.js';

/** KEYS vec, exp; ARGV now, expiresAt, cap, ttlMs, blob, element. */
const ADD = `
local now = tonumber(ARGV[1])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, #old do redis.call('VREM', KEYS[1], old[i]) end
if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
redis.call('VADD', KEYS[1], 'FP32', ARGV[5], ARGV[6], 'NOQUANT')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if over > 0 then
  local ev = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #ev, 2 do redis.call('VREM', KEYS[1], ev[i]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1`;

/** KEYS vec, exp; ARGV now, blob, count → { element, score } of the most similar live element, or nil. */
const NEAREST = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local r = redis.call('VSIM', KEYS[1], 'FP32', ARGV[2], 'WITHSCORES', 'COUNT', ARGV[3])
local now = tonumber(ARGV[1])
for i = 1, #r, 2 do
  local exp = redis.call('ZSCORE', KEYS[2], r[i])
  if exp and tonumber(exp) > now then return { r[i], tostring(r[i + 1]) } end
end
return nil`;

export interface RedisIndexOptions {
  /** Elements per fingerprint; the soonest to expire go first. Default 10 000. */
  readonly maxPerSet?: number;
  /** A lookup not answered within this is a miss. Default 100 ms. */
  readonly timeoutMs?: number;
  readonly keyPrefix?: string;
  readonly now?: () => number;
}

export class RedisVectorIndex implements SemanticIndex {
  readonly kind = 'redis-vector-set' as const;
  /** Failed or late calls (tests and metrics read it). */
  failures = 0;
  private readonly maxPerSet: string;
  private readonly timeoutMs: number;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    options: RedisIndexOptions = {},
  ) {
    this.maxPerSet = String(options.maxPerSet ?? 10_000);
    this.timeoutMs = options.timeoutMs ?? 100;
    this.prefix = options.keyPrefix ?? SEMANTIC_KEY_PREFIX;
    this.now = options.now ?? Date.now;
    redis.defineCommand('tollgateSemanticAdd', { numberOfKeys: 2, lua: ADD });
    redis.defineCommand('tollgateSemanticNearest', { numberOfKeys: 2, lua: NEAREST });
  }

  add(fingerprint: string, vector: Float32Array, entryKey: string, ttlMs: number): void {
    const k = semanticIndexKeys(fingerprint, this.prefix);
    const now = this.now();
    const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    const args = [k.vectors, k.expiries, now, now + ttlMs, this.maxPerSet, ttlMs, blob, entryKey];
    this.scripted('tollgateSemanticAdd', args).catch(() => {
      this.failures++;
    });
  }

  async nearest(fingerprint: string, vector: Float32Array): Promise<SemanticMatch | undefined> {
    const k = semanticIndexKeys(fingerprint, this.prefix);
    const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        this.scripted('tollgateSemanticNearest', [k.vectors, k.expiries, this.now(), blob, 4]),
        new Promise<'late'>((resolve) => {
          timer = setTimeout(resolve, this.timeoutMs, 'late');
        }),
      ]);
      if (r === 'late') {
        this.failures++;
        return undefined;
      }
      if (!Array.isArray(r) || r.length !== 2) return undefined;
      const score = Number(r[1]);
      if (typeof r[0] !== 'string' || !Number.isFinite(score)) return undefined;
      // VSIM's score is (1 + cosine) / 2.
      return { entryKey: r[0], similarity: 2 * score - 1 };
    } catch {
      this.failures++;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private scripted(name: string, args: (string | number | Buffer)[]): Promise<unknown> {
    const fn = (this.redis as unknown as Record<string, (...a: (string | number | Buffer)[]) => Promise<unknown>>)[
      name
    ]!;
    return fn.apply(this.redis, args);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** Does the server at the other end of `redis` have vector sets? (`COMMAND INFO VADD` names the command.) */
export async function hasVectorSets(redis: Redis): Promise<boolean> {
  const info = await redis.call('COMMAND', 'INFO', 'VADD');
  return Array.isArray(info) && Array.isArray(info[0]);
}

export interface OpenIndexOptions extends RedisIndexOptions {
  /** The shared Redis (the cache's store URL); undefined: the in-process index. */
  readonly url: string | undefined;
  readonly logger: Logger;
  readonly memory?: MemoryIndexOptions;
  /** How long the start-up probe may take before the in-process index is used. Default 2 s. */
  readonly probeTimeoutMs?: number;
}

/**
 * The index for a data plane: Redis vector sets when the configured Redis has them, otherwise (no Redis, a
 * Redis before 8, or none answering the probe in time) the bounded in-process index. Which one is logged.
 */
export async function openSemanticIndex(o: OpenIndexOptions): Promise<SemanticIndex> {
  if (o.url === undefined) return new MemoryIndex(o.memory);
  const probe = o.probeTimeoutMs ?? 2000;
  const redis = new Redis(o.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(probe, 1000),
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: true,
  });
  redis.on('error', () => {});
  let ok = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, probe, false);
    });
    ok = await Promise.race([redis.connect().then(() => hasVectorSets(redis)), late]);
  } catch (err) {
    o.logger.warn('semantic cache: Redis probe failed', { err });
  } finally {
    clearTimeout(timer);
  }
  if (ok) {
    o.logger.info('semantic cache: shared index on Redis vector sets', {});
    return new RedisVectorIndex(redis, o);
  }
  redis.disconnect();
  o.logger.warn('semantic cache: Redis has no vector sets (Redis 8 needed); using the in-process index', {});
  return new MemoryIndex(o.memory);
}

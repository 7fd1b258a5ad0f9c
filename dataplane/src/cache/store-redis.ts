/**
 * The shared cache store: Redis (--redis), so every replica serves what any of them stored (ADR 0070). Keys
 * and TTLs as contract/shared-state.ts lays them out. It never fails a request: a read that errors or does
 * not answer within `timeoutMs` is a miss, a write that fails is dropped; both are counted (onError →
 * tollgate_cache_errors_total). No offline queue: while Redis is down, commands fail at once.
 */
import { Redis } from 'ioredis';
import type { CacheEntry, CacheStore } from './types.js';

export interface RedisStoreOptions {
  readonly url: string;
  /** A read slower than this is a miss; default 50 ms. */
  readonly timeoutMs?: number;
  /** Entries larger than this (bytes of JSON) are not stored. */
  readonly maxEntryBytes: number;
  /** Called once per failed or timed-out command, with its kind. */
  readonly onError: (op: 'get' | 'set') => void;
}

export class RedisCacheStore implements CacheStore {
  readonly redis: Redis;
  private readonly timeoutMs: number;
  private readonly maxEntryBytes: number;
  private readonly onError: (op: 'get' | 'set') => void;

  constructor(o: RedisStoreOptions) {
    this.timeoutMs = o.timeoutMs ?? 50;
    this.maxEntryBytes = o.maxEntryBytes;
    this.onError = o.onError;
    this.redis = new Redis(o.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    // Connection errors surface per command (a miss, counted); never crash on 'error'.
    this.redis.on('error', () => {});
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const text = await this.timed(this.redis.get(key));
    return text === undefined || text === null ? undefined : parse(text);
  }

  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    const texts = await this.timed(this.redis.mget(keys as string[]));
    if (texts === undefined) return keys.map(() => undefined);
    return texts.map((t) => (t === null ? undefined : parse(t)));
  }

  set(key: string, entry: CacheEntry, ttlMs: number): void {
    const text = JSON.stringify(entry);
    if (Buffer.byteLength(text) > this.maxEntryBytes) return;
    this.redis.set(key, text, 'PX', Math.max(1, Math.round(ttlMs))).catch(() => this.onError('set'));
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** The command's answer, or undefined when it failed or took longer than the timeout (counted). */
  private timed<T>(p: Promise<T>): Promise<T | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const end = (v: T | undefined, failed: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        if (failed) this.onError('get');
        resolve(v);
      };
      const t = setTimeout(() => end(undefined, true), this.timeoutMs);
      p.then(
        (v) => end(v, false),
        () => end(undefined, true),
      );
    });
  }
}

function parse(text: string): CacheEntry | undefined {
  try {
    return JSON.parse(text) as CacheEntry;
  } catch {
    return undefined;
  }
}

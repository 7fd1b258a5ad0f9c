/**
 * Quota counters in Redis, shared by every data-plane replica. Each admission is one Lua script that
 * checks every limit the request falls under and, only if all admit, adds to all of them: atomic, so N
 * replicas enforce one limit exactly. Scripts run by EVALSHA, falling back to EVAL (which caches the
 * script) on NOSCRIPT, e.g. after a Redis restart. Time never comes from Redis: bucket numbers are
 * computed from the caller's (injectable) clock and passed in. Counters carry TTLs so Redis does not grow.
 *
 * Commands fail fast when Redis is unreachable (no offline queue, no retries, a short command timeout),
 * so the quota service can fall back (failureMode open) or answer 503 (closed) without hanging.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ReserveResult, Slot, SlotOutcome } from './slots.js';
import type { CounterStore, SettleItem } from './store.js';

// KEYS[i]: counter hash. ARGV per slot (5): field, minField, limit, add, budget(0|1); then ttl per slot.
// Returns {allowed, used_1, free_1, used_2, free_2, ...}.
const RESERVE_LUA = `
local n = #KEYS
local out = {}
local allowed = 1
for i = 1, n do
  local b = (i - 1) * 6
  local minField = tonumber(ARGV[b + 2])
  local limit = tonumber(ARGV[b + 3])
  local add = tonumber(ARGV[b + 4])
  local budget = ARGV[b + 5] == '1'
  local h = redis.call('HGETALL', KEYS[i])
  local used = 0
  local live = {}
  for j = 1, #h, 2 do
    local f = tonumber(h[j])
    if f < minField then
      redis.call('HDEL', KEYS[i], h[j])
    else
      local v = tonumber(h[j + 1])
      used = used + v
      live[#live + 1] = { f, v }
    end
  end
  local ok
  if budget then ok = used < limit else ok = used + add <= limit end
  local free = -1
  if not ok then
    allowed = 0
    free = -2
    table.sort(live, function(x, y) return x[1] < y[1] end)
    local t = used
    for k = 1, #live do
      t = t - live[k][2]
      local fits
      if budget then fits = t < limit else fits = t + add <= limit end
      if fits then free = live[k][1] break end
    end
  end
  out[#out + 1] = used
  out[#out + 1] = free
end
if allowed == 1 then
  for i = 1, n do
    local b = (i - 1) * 6
    if ARGV[b + 4] ~= '0' then
      redis.call('HINCRBY', KEYS[i], ARGV[b + 1], ARGV[b + 4])
      redis.call('PEXPIRE', KEYS[i], ARGV[b + 6])
    end
  end
end
table.insert(out, 1, allowed)
return out
`;

// KEYS[i]: counter hash. ARGV per item (3): field, delta, ttl. Buckets already gone are skipped.
const SETTLE_LUA = `
for i = 1, #KEYS do
  local b = (i - 1) * 3
  if redis.call('HEXISTS', KEYS[i], ARGV[b + 1]) == 1 then
    local v = redis.call('HINCRBY', KEYS[i], ARGV[b + 1], ARGV[b + 2])
    if v < 0 then redis.call('HSET', KEYS[i], ARGV[b + 1], 0) end
    redis.call('PEXPIRE', KEYS[i], ARGV[b + 3])
  end
end
return 1
`;

// KEYS[i]: counter hash. ARGV[i]: minField. Returns the live totals.
const READ_LUA = `
local out = {}
for i = 1, #KEYS do
  local h = redis.call('HGETALL', KEYS[i])
  local used = 0
  local minField = tonumber(ARGV[i])
  for j = 1, #h, 2 do
    if tonumber(h[j]) >= minField then used = used + tonumber(h[j + 1]) end
  end
  out[i] = used
end
return out
`;

class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }
}

const reserveScript = new Script(RESERVE_LUA);
const settleScript = new Script(SETTLE_LUA);
const readScript = new Script(READ_LUA);

export interface RedisStoreOptions {
  url: string;
  /** Per-command timeout; the request never waits longer on Redis. Default 250 ms. */
  timeoutMs?: number;
  /** Prefix of every counter key. Default `tollgate:quota:`. */
  keyPrefix?: string;
}

function int(n: number): string {
  // Counters are integers (requests, tokens, nano-USD); never let a float or 1e+21 notation reach HINCRBY.
  return BigInt(Math.round(n)).toString();
}

export class RedisStore implements CounterStore {
  readonly kind = 'redis' as const;
  readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    const timeout = options.timeoutMs ?? 250;
    this.prefix = options.keyPrefix ?? 'tollgate:quota:';
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeout,
      connectTimeout: Math.max(timeout, 1000),
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    // Connection errors are surfaced per command (and logged by the service); never crash on 'error'.
    this.redis.on('error', () => {});
  }

  /** Resolves once connected (or after `timeoutMs`, whichever is first); never rejects. */
  ready(timeoutMs = 2000): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => done(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(t);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      this.redis.on('ready', onReady);
    });
  }

  async reserve(slots: readonly Slot[]): Promise<ReserveResult> {
    const keys: string[] = [];
    const args: string[] = [];
    for (const s of slots) {
      keys.push(this.prefix + s.key);
      args.push(
        String(s.field),
        String(s.minField),
        int(s.limit.amount),
        int(s.add),
        s.budget ? '1' : '0',
        String(Math.ceil(s.ttlMs)),
      );
    }
    const raw = (await reserveScript.run(this.redis, keys, args)) as number[];
    const outcomes: SlotOutcome[] = [];
    for (let i = 0; i < slots.length; i++) outcomes.push({ used: raw[1 + 2 * i]!, freeField: raw[2 + 2 * i]! });
    return { allowed: raw[0] === 1, outcomes };
  }

  async settle(items: readonly SettleItem[]): Promise<void> {
    if (items.length === 0) return;
    const keys: string[] = [];
    const args: string[] = [];
    for (const it of items) {
      keys.push(this.prefix + it.key);
      args.push(String(it.field), int(it.delta), String(Math.ceil(it.ttlMs)));
    }
    await settleScript.run(this.redis, keys, args);
  }

  async read(slots: readonly Slot[]): Promise<number[]> {
    if (slots.length === 0) return [];
    const raw = (await readScript.run(
      this.redis,
      slots.map((s) => this.prefix + s.key),
      slots.map((s) => String(s.minField)),
    )) as number[];
    return raw;
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

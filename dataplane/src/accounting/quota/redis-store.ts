/**
 * Quota counters in Redis, shared by every data-plane replica. Each admission is checked and counted by a
 * Lua script that looks at every limit the request falls under and, only if all admit, adds to all of
 * them: atomic, so N replicas enforce one limit exactly. Scripts run by EVALSHA, falling back to EVAL
 * (which caches the script) on NOSCRIPT, e.g. after a Redis restart. Time never comes from Redis: bucket
 * numbers are computed from the caller's (injectable) clock and passed in. Counters carry TTLs so Redis
 * does not grow.
 *
 * A counter is one hash: the bucket numbers, `t` (the running total of the live buckets) and `lo` (the
 * lowest bucket that may still be present). Moving the window forward subtracts the buckets that left it,
 * each once, so an admission reads two fields instead of summing the window (slots.ts has the same
 * algorithm on maps; the in-process store runs it).
 *
 * Batching (batcher.ts): an admission at an idle moment goes at once (as soon as the current task's
 * synchronous work is done); the admissions issued while a call is under way go as one script call at the
 * end of the turn. Settlements are off the request's path: while a call is under way they wait and ride
 * along with the next call. The script handles a call's operations in order, each admission
 * all-or-nothing, exactly as if they had been sent one by one; under load a replica makes about one round
 * trip per turn instead of two per request.
 *
 * Commands fail fast when Redis is unreachable (no offline queue, no retries, a short timeout per call:
 * deadlines.ts, one timer for all calls rather than ioredis' timer per command), so the quota service can
 * fall back (failureMode open) or answer 503 (closed) without hanging.
 *
 * A call the store gave up on is not lost to Redis: a stalled server (paused, swapping, a long command)
 * runs it when it wakes. Its admissions must then not count (docs/adr/0058), or a 3 s stall leaves the
 * window holding units nobody was admitted with. So each call carries its deadline in Redis' own clock
 * (the local time plus an offset measured with TIME when the connection is ready) and the script skips
 * its admissions when TIME is past it; settlements still apply. An answer that arrives after the deadline
 * anyway (the script ran just in time, the reply did not) is refunded: a settlement of minus what it added.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { QUOTA_KEY_PREFIX } from '../../../../contract/shared-state.js';
import { Batcher, type BatchOp } from './batcher.js';
import { CREDIT_FILL } from './credits.js';
import { Deadlines } from './deadlines.js';
import { refundOf } from './refund.js';
import type { ReserveResult, Slot, SlotOutcome } from './slots.js';
import type { CounterStore, SettleItem } from './store.js';

// Shared by the scripts: the window total of a counter after dropping buckets below minField.
const ADVANCE_LUA = `
local function advance(key, minField)
  local st = redis.call('HMGET', key, 't', 'lo')
  local t = tonumber(st[1])
  if t == nil then return 0, nil end
  local lo = tonumber(st[2]) or minField
  if lo < minField then
    if minField - lo > 256 then
      local h = redis.call('HGETALL', key)
      for j = 1, #h, 2 do
        local f = tonumber(h[j])
        if f ~= nil and h[j] ~= 't' and h[j] ~= 'lo' and f < minField then
          redis.call('HDEL', key, h[j])
          if h[j + 1] ~= '0' then redis.call('HINCRBY', key, 't', '-' .. h[j + 1]) end
        end
      end
    else
      for f = lo, minField - 1 do
        local fs = string.format('%d', f)
        local v = redis.call('HGET', key, fs)
        if v then
          redis.call('HDEL', key, fs)
          if v ~= '0' then redis.call('HINCRBY', key, 't', '-' .. v) end
        end
      end
    end
    redis.call('HSET', key, 'lo', string.format('%d', minField))
    t = tonumber(redis.call('HGET', key, 't'))
    lo = minField
  end
  return t, lo
end
`;

// KEYS: the counters of every operation, in order. ARGV[1]: the call's deadline in Redis' clock (ms; 0:
// none): past it, admissions are skipped and answered {-1}. ARGV[2]: number of operations; then per operation its
// kind ('r' reserve, 's' settle) and its slot count n, then n argument groups:
//   reserve: field, minField, limit, add, budget (0|1), ttl, credit    settle: field, delta
// Returns one entry per reserve, in order: {allowed, granted (0|1), used_1, free_1, used_2, free_2, ...}.
// Credits (credits.ts): when the request is admitted and every slot asks for one, each slot's credit is
// added with the request's add, only if every counter stays at most half full with it (all or none).
const BATCH_LUA = `${ADVANCE_LUA}
local function freeField(key, used, limit, add, budget)
  local h = redis.call('HGETALL', key)
  local live = {}
  for j = 1, #h, 2 do
    if h[j] ~= 't' and h[j] ~= 'lo' then live[#live + 1] = { tonumber(h[j]), tonumber(h[j + 1]) } end
  end
  table.sort(live, function(x, y) return x[1] < y[1] end)
  local t = used
  for k = 1, #live do
    t = t - live[k][2]
    local fits
    if budget then fits = t < limit else fits = t + add <= limit end
    if fits then return live[k][1] end
  end
  return -2
end

local out = {}
local deadline = tonumber(ARGV[1])
local expired = false
if deadline > 0 then
  local now = redis.call('TIME')
  expired = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > deadline
end
local a = 3
local k = 1
for _ = 1, tonumber(ARGV[2]) do
  local kind = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  if kind == 'r' and expired then
    out[#out + 1] = { -1 }
    a = a + n * 7
  elseif kind == 'r' then
    local res = { 1, 1 }
    local los = {}
    for i = 0, n - 1 do
      local b = a + i * 7
      local key = KEYS[k + i]
      local limit = tonumber(ARGV[b + 2])
      local add = tonumber(ARGV[b + 3])
      local budget = ARGV[b + 4] == '1'
      local credit = tonumber(ARGV[b + 6])
      local used, lo = advance(key, tonumber(ARGV[b + 1]))
      los[i] = lo
      local ok
      if budget then ok = used < limit else ok = used + add <= limit end
      local free = -1
      if not ok then
        res[1] = 0
        free = freeField(key, used, limit, add, budget)
      end
      if credit == 0 or used + add + credit > limit * ${CREDIT_FILL} then res[2] = 0 end
      res[#res + 1] = used
      res[#res + 1] = free
    end
    if res[1] == 0 then res[2] = 0 end
    if res[1] == 1 then
      for i = 0, n - 1 do
        local b = a + i * 7
        local add = ARGV[b + 3]
        local credit = '0'
        if res[2] == 1 then credit = ARGV[b + 6] end
        if add ~= '0' or credit ~= '0' then
          local key = KEYS[k + i]
          local field = ARGV[b]
          local lo = los[i]
          if lo == nil then
            redis.call('HSET', key, 'lo', ARGV[b + 1])
            los[i] = tonumber(ARGV[b + 1])
          elseif tonumber(field) < lo then
            field = string.format('%d', lo)
          end
          -- The TTL is set when a bucket is created: it outlives every bucket that can still count
          -- (window + 2 buckets after the newest), so refreshing it on every write buys nothing.
          -- Integers stay strings (exact up to 2^63; Lua numbers are doubles): the credit is a second add.
          for _, v in ipairs({ add, credit }) do
            if v ~= '0' then
              if redis.call('HINCRBY', key, field, v) == tonumber(v) then redis.call('PEXPIRE', key, ARGV[b + 5]) end
              redis.call('HINCRBY', key, 't', v)
            end
          end
        end
      end
    end
    out[#out + 1] = res
    a = a + n * 7
  else
    for i = 0, n - 1 do
      local b = a + i * 2
      local key = KEYS[k + i]
      local v = redis.call('HGET', key, ARGV[b])
      if v then
        local old = tonumber(v)
        local new = old + tonumber(ARGV[b + 1])
        if new < 0 then new = 0 end
        redis.call('HSET', key, ARGV[b], string.format('%d', new))
        redis.call('HINCRBY', key, 't', string.format('%d', new - old))
      end
    end
    a = a + n * 2
  end
  k = k + n
end
return out
`;

// KEYS[i]: counter hash. ARGV[i]: minField. Returns the live totals without changing anything.
const READ_LUA = `
local out = {}
for i = 1, #KEYS do
  local minField = tonumber(ARGV[i])
  local st = redis.call('HMGET', KEYS[i], 't', 'lo')
  local t = tonumber(st[1]) or 0
  local lo = tonumber(st[2]) or minField
  if lo < minField then
    local h = redis.call('HGETALL', KEYS[i])
    t = 0
    for j = 1, #h, 2 do
      if h[j] ~= 't' and h[j] ~= 'lo' and tonumber(h[j]) >= minField then t = t + tonumber(h[j + 1]) end
    end
  end
  out[i] = t
end
return out
`;

const noop = (): void => {};

type KeysAndArgs = [numKeys: number, ...keysThenArgs: (string | number)[]];

class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
  /** The number of keys, the keys, then the arguments (EVALSHA's own order). */
  run(redis: Redis, keysAndArgs: KeysAndArgs): Promise<unknown> {
    return redis.evalsha(this.sha, ...keysAndArgs).catch((err: unknown) => {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return redis.eval(this.source, ...keysAndArgs);
      throw err;
    });
  }
}

const batchScript = new Script(BATCH_LUA);
const readScript = new Script(READ_LUA);

/** Default prefix of the counter keys (the key layout is contract/shared-state.ts's). */
export const DEFAULT_KEY_PREFIX = QUOTA_KEY_PREFIX;

/** Most operations in one script call, so one call never holds Redis long. */
const MAX_BATCH = 128;

export interface RedisStoreOptions {
  url: string;
  /** Per-command timeout; the request never waits longer on Redis. Default 250 ms. */
  timeoutMs?: number;
  /** Prefix of every counter key. Default `tollgate:quota:v2:`. */
  keyPrefix?: string;
}

/** An admission's entry of the script's reply: {allowed, granted, used_1, free_1, used_2, free_2, ...}. */
function reserveResult(r: number[]): ReserveResult {
  const outcomes: SlotOutcome[] = [];
  for (let i = 2; i < r.length; i += 2) outcomes.push({ used: r[i]!, freeField: r[i + 1]! });
  const result: ReserveResult = { allowed: r[0] === 1, outcomes };
  if (r[1] === 1) result.credited = true;
  return result;
}

function int(n: number): string {
  // Counters are integers (requests, tokens, nano-USD); never let a float or 1e+21 notation reach HINCRBY.
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.round(n)).toString();
}

/** One admission or settlement waiting for the next script call. */
interface Op extends BatchOp {
  readonly keys: string[];
  readonly args: string[];
  /** Called with the operation's entry of the script's reply (admissions) or undefined (settlements). */
  resolve(raw: unknown): void;
  reject(err: unknown): void;
}

export class RedisStore implements CounterStore {
  readonly kind = 'redis' as const;
  readonly redis: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly deadlines: Deadlines;
  private readonly batcher = new Batcher<Op>((ops) => this.send(ops), MAX_BATCH);
  /** Redis' clock minus ours (ms), measured when the connection is ready; undefined: not yet. */
  private clockOffsetMs: number | undefined;
  /** Script calls made (tests read it to see the batching). */
  calls = 0;
  /** Admissions answered after the store had given up on them, refunded (tests read it). */
  refunded = 0;

  constructor(options: RedisStoreOptions) {
    const timeout = options.timeoutMs ?? 250;
    this.timeoutMs = timeout;
    this.deadlines = new Deadlines(timeout);
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // No commandTimeout: every call goes through timed() instead.
      connectTimeout: Math.max(timeout, 1000),
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    // Connection errors are surfaced per command (and logged by the service); never crash on 'error'.
    this.redis.on('error', () => {});
    this.redis.on('ready', () => void this.measureClock());
  }

  /** Redis' TIME against ours, the reply's round trip halved; deadlines are sent in Redis' clock. */
  private async measureClock(): Promise<void> {
    try {
      const before = Date.now();
      const [sec, usec] = (await this.timed(this.redis.time())) as [string | number, string | number];
      const after = Date.now();
      this.clockOffsetMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000) - (before + after) / 2;
    } catch {
      // No offset: calls go without a deadline (late answers are still refunded) until the next connect.
    }
  }

  /** Resolves once connected (or after `timeoutMs`, whichever is first); never rejects. */
  ready(timeoutMs = 2000): Promise<boolean> {
    if (this.redis.status === 'ready' && this.clockOffsetMs !== undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => done(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(t);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      // Ready once the clock offset is known too (measureClock runs on the same event, first).
      const onReady = () =>
        void this.timed(this.redis.time()).then(
          () => done(true),
          () => done(true),
        );
      if (this.redis.status === 'ready') onReady();
      else this.redis.on('ready', onReady);
    });
  }

  reserve(slots: readonly Slot[], credits?: readonly number[]): Promise<ReserveResult> {
    const keys: string[] = [];
    const args: string[] = [];
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      keys.push(this.prefix + s.key);
      args.push(
        String(s.field),
        String(s.minField),
        int(s.limit.amount),
        int(s.add),
        s.budget ? '1' : '0',
        String(Math.ceil(s.ttlMs)),
        credits === undefined ? '0' : int(credits[i]!),
      );
    }
    return new Promise<ReserveResult>((resolve, reject) =>
      this.batcher.add({ kind: 'r', keys, args, resolve: (raw) => resolve(reserveResult(raw as number[])), reject }),
    );
  }

  settle(items: readonly SettleItem[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    const keys: string[] = [];
    const args: string[] = [];
    for (const it of items) {
      keys.push(this.prefix + it.key);
      args.push(String(it.field), int(it.delta));
    }
    return new Promise<void>((resolve, reject) => this.batcher.add({ kind: 's', keys, args, resolve, reject }));
  }

  /** One script call for `ops` (the batcher decides when). */
  private send(ops: Op[]): void {
    let nkeys = 0;
    for (const op of ops) nkeys += op.keys.length;
    const keysAndArgs: KeysAndArgs = [nkeys];
    for (const op of ops) for (const k of op.keys) keysAndArgs.push(k);
    const offset = this.clockOffsetMs;
    keysAndArgs.push(offset === undefined ? 0 : Math.ceil(Date.now() + offset + this.timeoutMs), ops.length);
    for (const op of ops) {
      keysAndArgs.push(op.kind, op.keys.length);
      for (const a of op.args) keysAndArgs.push(a);
    }
    this.calls++;
    this.timed(batchScript.run(this.redis, keysAndArgs), (late) => this.refund(ops, late as unknown[])).then(
      (raw) => {
        this.batcher.done();
        const out = raw as unknown[];
        let r = 0;
        for (const op of ops) {
          if (op.kind !== 'r') op.resolve(undefined);
          else {
            const entry = out[r++] as number[];
            if (entry[0] === -1) op.reject(new Error('quota store: Redis ran the admission after its deadline'));
            else op.resolve(entry);
          }
        }
      },
      (err: unknown) => {
        this.batcher.done();
        for (const op of ops) op.reject(err);
      },
    );
  }

  async read(slots: readonly Slot[]): Promise<number[]> {
    if (slots.length === 0) return [];
    const raw = (await this.timed(
      readScript.run(this.redis, [
        slots.length,
        ...slots.map((s) => this.prefix + s.key),
        ...slots.map((s) => String(s.minField)),
      ]),
    )) as number[];
    return raw;
  }

  /** A script call's answer that came after the store gave up on it: its admissions are taken back. */
  private refund(ops: readonly Op[], out: readonly unknown[]): void {
    const r = refundOf(ops, out);
    this.refunded += r.admissions;
    if (r.keys.length > 0) this.batcher.add({ kind: 's', keys: r.keys, args: r.args, resolve: noop, reject: noop });
  }

  /** `call`, failed if Redis has not answered within the store's timeout; `late` gets an answer after it. */
  private timed<T>(call: Promise<T>, late?: (v: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = this.deadlines.start(() =>
        reject(new Error(`quota store: no answer from Redis within ${this.timeoutMs} ms`)),
      );
      call.then(
        (v) => {
          if (deadline.finish()) resolve(v);
          else late?.(v);
        },
        (err: unknown) => {
          if (deadline.finish()) reject(err);
        },
      );
    });
  }

  async close(): Promise<void> {
    // Whatever is queued (this turn's operations, settlements waiting for a call) goes out before QUIT.
    this.batcher.flush();
    try {
      await this.timed(this.redis.quit());
    } catch {
      this.redis.disconnect();
    }
  }
}

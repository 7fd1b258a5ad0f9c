/**
 * QuotaPolicy usage for status: per limit, what has been consumed in the current window and what is
 * left, read from the same Redis counters the data plane's quota engine writes. The operator reads them
 * at a modest interval (--quota-status-interval), never per request. The key layout and the read rule
 * are contract/shared-state.ts's (the data plane's writer imports the same module), so the operator
 * needs no part of the data plane to read them: plain ioredis, HGETALL per counter.
 *
 * `buildUsage` is pure (policy config + counter totals → status entries); `QuotaUsageReader` is the I/O.
 */

import { Redis } from 'ioredis';
import type { ProviderConfig, QuotaPolicyConfig, QuotaWindow } from '../../contract/gateway-config.js';
import {
  CAPACITY_KEY_PREFIX,
  monthOf,
  NANO_USD_PER_USD,
  QUOTA_KEY_PREFIX,
  quotaCounterAt,
  quotaCounterBase,
  SHARED_SCOPE,
  windowTotal,
} from '../../contract/shared-state.js';
import { type CapacityStatus, capacityPolicies, capacityStatus } from './capacity-usage.js';

export type LimitKind = QuotaPolicyConfig['limits'][number]['kind'];

/** One row of status.usage. */
export interface UsageEntry {
  /** Human label, e.g. "requests per 1m". */
  limit: string;
  kind: LimitKind;
  /** The limit as written in the spec (USD for costUSD). */
  amount: number;
  /** The window as written in the spec: a duration (1m, 1h, 30d) or "month". */
  per: string;
  used: number;
  remaining: number;
  scope: 'perKey' | 'shared';
  /** perKey: the key Secret's name (same namespace as the policy). */
  key?: string;
  /** Calendar-month windows only: when the counter starts again from zero (RFC 3339). */
  windowResetsAt?: string;
}

export interface QuotaUsageStatus {
  usage: UsageEntry[];
  /** When the counters were read (RFC 3339). */
  lastUpdated: string;
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** A window as the spec writes it: `month`, or the largest unit that divides it (90s stays 90s). */
export function formatPer(w: QuotaWindow): string {
  if (w.type === 'calendarMonth') return 'month';
  for (const [unit, ms] of UNITS) if (w.ms % ms === 0) return `${w.ms / ms}${unit}`;
  return `${w.ms}ms`;
}

/** Cost is a float of USD (nano-USD counters); keep status readable and stable. */
function round(kind: LimitKind, n: number): number {
  return kind === 'costUSD' ? Math.round(n * 1e6) / 1e6 : Math.round(n);
}

/** Totals per limit (same order as policy.limits) for one counter scope: `*` (shared) or a key id. */
export type ScopeTotals = ReadonlyMap<string, readonly number[]>;

/**
 * Status rows for one policy. Shared: one row per limit. PerKey: per limit, the `topKeys` keys that used
 * the most (ties by name), or one row without `key` and zero use when no key used it yet.
 */
export function buildUsage(policy: QuotaPolicyConfig, totals: ScopeTotals, now: number, topKeys = 5): UsageEntry[] {
  const rows: UsageEntry[] = [];
  const resetsAt = new Date(monthOf(now).endMs).toISOString();
  policy.limits.forEach((l, i) => {
    const per = formatPer(l.window);
    const row = (used: number, key?: string): UsageEntry => {
      const u = round(l.kind, used);
      const e: UsageEntry = {
        limit: `${l.kind} per ${per}`,
        kind: l.kind,
        amount: l.amount,
        per,
        used: u,
        remaining: round(l.kind, Math.max(0, l.amount - u)),
        scope: policy.scope,
      };
      if (key !== undefined) e.key = key;
      if (l.window.type === 'calendarMonth') e.windowResetsAt = resetsAt;
      return e;
    };
    if (policy.scope === 'shared') {
      rows.push(row(totals.get(SHARED_SCOPE)?.[i] ?? 0));
      return;
    }
    const users = [...totals]
      .filter(([scope, t]) => scope !== SHARED_SCOPE && (t[i] ?? 0) > 0)
      .map(([scope, t]) => ({ name: scope.slice(scope.indexOf('/') + 1), used: t[i] ?? 0 }))
      .sort((a, b) => b.used - a.used || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, topKeys);
    if (users.length === 0) rows.push(row(0));
    for (const u of users) rows.push(row(u.used, u.name));
  });
  return rows;
}

/** The counter scopes a policy's status needs: `*` for shared, every selected key for perKey. */
export function scopesOf(policy: QuotaPolicyConfig): string[] {
  return policy.scope === 'shared' ? [SHARED_SCOPE] : [...policy.keys];
}

/** Reads one scope's totals, in policy.limits order (QuotaUsageReader, or a fake in unit tests). */
export type ReadTotals = (policyId: string, scopeId: string, policy: QuotaPolicyConfig) => Promise<number[]>;

/** Reads every policy's counters (a few reads in flight at a time) and builds their status rows. */
export async function readUsage(
  policies: readonly QuotaPolicyConfig[],
  read: ReadTotals,
  now: number,
  topKeys = 5,
  concurrency = 16,
): Promise<Map<string, QuotaUsageStatus>> {
  const out = new Map<string, QuotaUsageStatus>();
  const lastUpdated = new Date(now).toISOString();
  for (const p of policies) {
    if (p.limits.length === 0) continue;
    const scopes = scopesOf(p);
    const totals = new Map<string, number[]>();
    for (let i = 0; i < scopes.length; i += concurrency) {
      const batch = scopes.slice(i, i + concurrency);
      const got = await Promise.all(batch.map((s) => read(p.id, s, p)));
      for (let j = 0; j < batch.length; j++) totals.set(batch[j] as string, got[j] ?? []);
    }
    out.set(p.id, { usage: buildUsage(p, totals, now, topKeys), lastUpdated });
  }
  return out;
}

/** One scope's totals, in policy.limits order, from one pipeline of HGETALLs (cost in USD). */
export async function readScopeTotals(
  redis: Pick<Redis, 'pipeline'>,
  policy: QuotaPolicyConfig,
  scopeId: string,
  now: number,
  prefix = QUOTA_KEY_PREFIX,
): Promise<number[]> {
  const counters = policy.limits.map((l) =>
    quotaCounterAt(quotaCounterBase(policy.id, l.kind, l.window), l.window, scopeId, now, prefix),
  );
  const pipe = redis.pipeline();
  for (const c of counters) pipe.hgetall(c.key);
  const replies = (await pipe.exec()) ?? [];
  return counters.map((c, i) => {
    const [err, hash] = replies[i] ?? [new Error('no reply')];
    if (err) throw err;
    const used = windowTotal(hash as Record<string, string>, c.minField);
    return policy.limits[i]?.kind === 'costUSD' ? used / NANO_USD_PER_USD : used;
  });
}

/** The Redis side: plain ioredis, reads only (HGETALL), failing fast when Redis is away. */
export class QuotaUsageReader {
  private constructor(
    private readonly redis: Redis,
    private readonly now: () => number,
  ) {}

  static async connect(url: string, now: () => number = Date.now): Promise<QuotaUsageReader> {
    // A status read may wait longer than a request would (2 s); it never blocks the hot path. No offline
    // queue and no retries per command: a read while Redis is away fails, and the controller keeps the
    // previous status until the next interval.
    const redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    redis.on('error', () => {}); // surfaced per read (rejected promise), never as a crash
    return new QuotaUsageReader(redis, now);
  }

  /** Rejects when Redis is unreachable (the caller keeps the previous status and retries next interval). */
  read(
    policies: readonly QuotaPolicyConfig[],
    topKeys = 5,
    prefix = QUOTA_KEY_PREFIX,
  ): Promise<Map<string, QuotaUsageStatus>> {
    const now = this.now();
    return readUsage(policies, (_id, scope, p) => readScopeTotals(this.redis, p, scope, now, prefix), now, topKeys);
  }

  /** LLMProvider capacity in use (capacity-usage.ts), by provider id; rejects when Redis is unreachable. */
  async readCapacity(providers: readonly ProviderConfig[]): Promise<Map<string, CapacityStatus>> {
    const sets = capacityPolicies(providers);
    if (sets.length === 0) return new Map();
    const usage = await this.read(
      sets.map((s) => s.policy),
      1,
      CAPACITY_KEY_PREFIX,
    );
    return capacityStatus(sets, usage);
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

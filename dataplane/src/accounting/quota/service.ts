/**
 * The quota service the request path calls: admission before the first attempt (requests counted; tokens
 * and cost reserved from an estimate), settlement after the response (the real usage replaces the
 * reservation; streams included), headers for governed requests, and the failure-mode policy when the
 * shared store is unreachable.
 *
 * Hot path: a request no policy governs costs one map lookup and returns `undefined` synchronously.
 */

import type { QuotaPolicyConfig } from '../../config/gateway-config.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { MemoryStore } from './memory-store.js';
import { buildPolicyIndex, type LimitRt, type PolicyIndex, type PolicyRt } from './policy-index.js';
import { makeSlot, type ReserveResult, retryAfterMs, type Slot } from './slots.js';
import type { CounterStore, SettleItem } from './store.js';

export interface QuotaRequest {
  /** Key Secret id (`namespace/name`); undefined for anonymous requests in open mode. */
  keyId: string | undefined;
  /** The model the client asked for (what policies' model filters match). */
  model: string;
  /** Tokens to reserve: input estimate + requested (or default) max output. */
  reserveTokens: number;
  /** nano-USD to reserve (0 when no candidate backend is priced). */
  reserveCostNano: number;
}

export interface ActualUsage {
  /** Input + output tokens actually used (0 when no attempt produced a response). */
  tokens: number;
  /** Real cost in nano-USD (0 when unpriced or nothing was served). */
  costNano: number;
}

/** An admitted request: headers to send and the settlement to run once. */
export interface QuotaTicket {
  readonly headers: Readonly<Record<string, string>>;
  readonly policies: readonly PolicyRt[];
  /** Where the counters were taken: the shared store, or the local fallback. */
  readonly store: 'redis' | 'memory';
  /** Replaces the reservation with the real usage. Idempotent; never throws; returns when written. */
  settle(actual: ActualUsage): Promise<void>;
}

export interface QuotaMetrics {
  quotaRejected(policyId: string): void;
}

export interface QuotaServiceOptions {
  /** Shared store (Redis); absent: counters live in this process. */
  store?: CounterStore;
  now?: () => number;
  logger?: Logger;
  metrics?: QuotaMetrics;
}

export class QuotaService {
  private index: PolicyIndex = buildPolicyIndex([]);
  private readonly local: MemoryStore;
  private readonly shared: CounterStore | undefined;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly metrics: QuotaMetrics | undefined;
  private lastStoreWarn = 0;

  constructor(options: QuotaServiceOptions = {}) {
    this.now = options.now ?? Date.now;
    this.local = new MemoryStore(this.now);
    this.shared = options.store;
    this.logger = options.logger;
    this.metrics = options.metrics;
  }

  /** Rebuilds the policy lookup tables; called when a config loads. Counters are kept. */
  applyPolicies(policies: readonly QuotaPolicyConfig[]): void {
    this.index = buildPolicyIndex(policies);
  }

  /** Policies governing a request (empty when none). */
  policiesFor(keyId: string | undefined, model: string): readonly PolicyRt[] {
    return this.index.policiesFor(keyId, model);
  }

  /** No shared store: admitSync answers at once. */
  get inProcess(): boolean {
    return this.shared === undefined;
  }

  /** What an admission needs: the governing policies, the clock, the slots; undefined when ungoverned. */
  private plan(req: QuotaRequest): { policies: readonly PolicyRt[]; now: number; slots: Slot[] } | undefined {
    const policies = this.index.policiesFor(req.keyId, req.model);
    if (policies.length === 0) return undefined;
    const now = this.now();
    return { policies, now, slots: buildSlots(policies, req, now) };
  }

  /**
   * Admission against in-process counters (no shared store), answered at once: the ticket, undefined for
   * an ungoverned request, or the 429 thrown. The request path uses it to skip a promise hop.
   */
  admitSync(req: QuotaRequest): QuotaTicket | undefined {
    if (this.shared) throw new Error('admitSync: the counters are in a shared store; use admit');
    const p = this.plan(req);
    if (p === undefined) return undefined;
    return this.decide(this.local.reserveSync(p.slots), p.slots, p.policies, p.now, 'memory');
  }

  /**
   * Admission. `undefined`: no policy governs the request (no headers, nothing to settle). Otherwise a
   * promise of a ticket, rejected with GatewayError `quota_exceeded` (429, retry-after and x-ratelimit-*
   * headers) or `quota_store_unavailable` (503, failureMode closed and the store unreachable).
   */
  admit(req: QuotaRequest): Promise<QuotaTicket> | undefined {
    if (!this.shared) {
      try {
        const ticket = this.admitSync(req);
        return ticket === undefined ? undefined : Promise.resolve(ticket);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const p = this.plan(req);
    if (p === undefined) return undefined;
    const { policies, now, slots } = p;
    return this.shared.reserve(slots).then(
      (r) => this.decide(r, slots, policies, now, 'redis'),
      (err: unknown) => {
        this.warnStore(err);
        if (policies.some((p) => p.failureMode === 'closed')) {
          throw new GatewayError('quota_store_unavailable', 'quota store unavailable; try again later', {
            cause: err,
            headers: { 'retry-after': '1' },
          });
        }
        return this.decide(this.local.reserveSync(slots), slots, policies, now, 'memory');
      },
    );
  }

  /** Current consumption per limit (for QuotaPolicy status), read without side effects. */
  async usage(policyId: string, scopeId = '*'): Promise<{ kind: string; used: number; limit: number }[]> {
    const now = this.now();
    const slots: Slot[] = [];
    for (const p of this.index.all) {
      if (p.id !== policyId) continue;
      for (const l of p.limits) slots.push(makeSlot(l, scopeId, 0, now));
    }
    const used = await (this.shared ?? this.local).read(slots);
    return slots.map((s, i) => ({
      kind: s.limit.kind,
      used: s.limit.kind === 'costUSD' ? used[i]! / 1e9 : used[i]!,
      limit: s.limit.displayAmount,
    }));
  }

  private decide(
    r: ReserveResult,
    slots: readonly Slot[],
    policies: readonly PolicyRt[],
    now: number,
    store: 'redis' | 'memory',
  ): QuotaTicket {
    const headers = rateLimitHeaders(slots, r, r.allowed);
    if (!r.allowed) {
      let wait = 0;
      const rejected = new Set<string>();
      for (let i = 0; i < slots.length; i++) {
        const o = r.outcomes[i]!;
        if (o.freeField === -1) continue;
        rejected.add(slots[i]!.limit.policy.id);
        wait = Math.max(wait, retryAfterMs(slots[i]!, o.freeField, now));
      }
      for (const id of rejected) this.metrics?.quotaRejected(id);
      headers['retry-after'] = String(Math.max(1, Math.ceil(wait / 1000)));
      const names = [...rejected].join(', ');
      throw new GatewayError(
        'quota_exceeded',
        `quota exceeded (policy ${names}); retry after ${headers['retry-after']}s`,
        {
          headers,
        },
      );
    }
    const settleBase: SettleItem[] = [];
    const reserved: number[] = [];
    const kinds: Slot[] = [];
    for (const s of slots) {
      if (!s.budget || s.add < 0) continue;
      settleBase.push({ key: s.key, field: s.field, delta: 0 });
      reserved.push(s.add);
      kinds.push(s);
    }
    let settled = false;
    const target = store === 'redis' ? this.shared! : this.local;
    return {
      headers,
      policies,
      store,
      settle: (actual) => {
        if (settled || settleBase.length === 0) return Promise.resolve();
        settled = true;
        const items: SettleItem[] = [];
        for (let i = 0; i < settleBase.length; i++) {
          const real = kinds[i]!.limit.kind === 'tokens' ? actual.tokens : actual.costNano;
          const delta = Math.round(real) - reserved[i]!;
          if (delta !== 0) items.push({ ...settleBase[i]!, delta });
        }
        if (items.length === 0) return Promise.resolve();
        return target.settle(items).catch((err: unknown) => this.warnStore(err));
      },
    };
  }

  private warnStore(err: unknown): void {
    const t = Date.now();
    if (t - this.lastStoreWarn < 10_000) return;
    this.lastStoreWarn = t;
    this.logger?.warn('quota store unreachable', { err: err instanceof Error ? err.message : String(err) });
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.shared?.close();
  }
}

function buildSlots(policies: readonly PolicyRt[], req: QuotaRequest, now: number): Slot[] {
  const slots: Slot[] = [];
  for (const p of policies) {
    const scopeId = p.scope === 'shared' ? '*' : (req.keyId ?? '~anonymous');
    for (const l of p.limits) slots.push(makeSlot(l, scopeId, addFor(l, req), now));
  }
  return slots;
}

function addFor(l: LimitRt, req: QuotaRequest): number {
  switch (l.kind) {
    case 'requests':
      return 1;
    case 'tokens':
      return Math.max(0, Math.ceil(req.reserveTokens));
    case 'costUSD':
      return Math.max(0, Math.ceil(req.reserveCostNano));
  }
}

/** OpenAI-style x-ratelimit-* from the most constraining requests and tokens limits. */
function rateLimitHeaders(slots: readonly Slot[], r: ReserveResult, allowed: boolean): Record<string, string> {
  let reqLimit: number | undefined;
  let reqRemaining = Number.POSITIVE_INFINITY;
  let tokLimit: number | undefined;
  let tokRemaining = Number.POSITIVE_INFINITY;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    const used = r.outcomes[i]!.used + (allowed ? s.add : 0);
    const remaining = Math.max(0, Math.floor(s.limit.amount - used));
    if (s.limit.kind === 'requests' && remaining < reqRemaining) {
      reqRemaining = remaining;
      reqLimit = s.limit.amount;
    } else if (s.limit.kind === 'tokens' && remaining < tokRemaining) {
      tokRemaining = remaining;
      tokLimit = s.limit.amount;
    }
  }
  const h: Record<string, string> = {};
  if (reqLimit !== undefined) {
    h['x-ratelimit-limit-requests'] = String(reqLimit);
    h['x-ratelimit-remaining-requests'] = String(reqRemaining);
  }
  if (tokLimit !== undefined) {
    h['x-ratelimit-limit-tokens'] = String(tokLimit);
    h['x-ratelimit-remaining-tokens'] = String(tokRemaining);
  }
  return h;
}

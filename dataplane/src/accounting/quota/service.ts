/**
 * The quota service the request path calls: admission before the first attempt (requests counted; tokens
 * and cost reserved from an estimate), settlement after the response (the real usage replaces the
 * reservation; streams included), headers for governed requests, and the failure-mode policy when the
 * shared store is unreachable.
 *
 * Hot path: a request no policy governs costs one map lookup and returns `undefined` synchronously.
 */

import type { QuotaPolicyConfig } from '../../../../contract/gateway-config.js';
import { ANONYMOUS_SCOPE, NANO_USD_PER_USD, SHARED_SCOPE } from '../../../../contract/shared-state.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { CreditBook, type CreditOptions } from './credits.js';
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
  /** The governing policies, when the caller already looked them up (`policiesFor`). */
  policies?: readonly PolicyRt[];
  /** Only the request limits count (a response-cache hit: nothing is spent upstream, ADR 0070). */
  requestsOnly?: boolean;
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
  /**
   * Admission credits with a shared store (credits.ts, ADR 0034): on by default; `false` sends every
   * admission to the store.
   */
  credits?: boolean | CreditOptions;
}

export class QuotaService {
  private index: PolicyIndex = buildPolicyIndex([]);
  private readonly local: MemoryStore;
  private readonly shared: CounterStore | undefined;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly metrics: QuotaMetrics | undefined;
  private lastStoreWarn = 0;
  /** Credits this replica holds in the shared store (undefined: in-process, or credits off). */
  private readonly credits: CreditBook | undefined;
  private readonly creditTimer: NodeJS.Timeout | undefined;

  constructor(options: QuotaServiceOptions = {}) {
    this.now = options.now ?? Date.now;
    this.local = new MemoryStore(this.now);
    this.shared = options.store;
    this.logger = options.logger;
    this.metrics = options.metrics;
    if (this.shared !== undefined && options.credits !== false) {
      this.credits = new CreditBook(typeof options.credits === 'object' ? options.credits : {});
      this.creditTimer = setInterval(() => this.expireCredits(), 100);
      this.creditTimer.unref();
    }
  }

  /** Rebuilds the policy lookup tables; called when a config loads. Counters are kept; credits returned. */
  applyPolicies(policies: readonly QuotaPolicyConfig[]): void {
    this.index = buildPolicyIndex(policies);
    if (this.credits) this.giveBack(this.credits.drain());
  }

  /** Returns the credits that ended to the shared store (a timer calls it; tests may too). */
  expireCredits(): void {
    if (this.credits) this.giveBack(this.credits.expire(this.now()));
  }

  /** After a grant: gives back what it replaced, and the grant itself if it came back too late to use. */
  private granted(released: SettleItem[]): void {
    this.giveBack(released);
    this.expireCredits();
  }

  /** Credits held by this replica (tests). */
  get creditsHeld(): number {
    return this.credits?.size ?? 0;
  }

  /** Script calls that ask for a credit, until answered (close() waits for them, then returns the credits). */
  private readonly asks = new Set<Promise<unknown>>();

  private track(reply: Promise<unknown>): void {
    const settled: Promise<unknown> = reply.then(
      () => this.asks.delete(settled),
      () => this.asks.delete(settled),
    );
    this.asks.add(settled);
  }

  private giveBack(items: SettleItem[]): Promise<void> {
    if (items.length === 0 || this.shared === undefined) return Promise.resolve();
    return this.shared.settle(items).catch((err: unknown) => this.warnStore(err));
  }

  /** Policies governing a request (empty when none). */
  policiesFor(keyId: string | undefined, model: string): readonly PolicyRt[] {
    return this.index.policiesFor(keyId, model);
  }

  /**
   * Admission. `undefined`: no policy governs the request (no headers, nothing to settle). A ticket when
   * decided at once: in-process counters, or a credit this replica holds (a refusal decided at once is
   * thrown: GatewayError `quota_exceeded`). Otherwise a promise of the shared store's answer, rejected with
   * `quota_exceeded` (429, retry-after and x-ratelimit-* headers) or `quota_store_unavailable` (503,
   * failureMode closed and the store unreachable).
   */
  admitNow(req: QuotaRequest): QuotaTicket | Promise<QuotaTicket> | undefined {
    const policies = req.policies ?? this.index.policiesFor(req.keyId, req.model);
    if (policies.length === 0) return undefined;
    const now = this.now();
    const slots = buildSlots(policies, req, now);
    const shared = this.shared;
    if (shared === undefined) return this.decide(this.local.reserveSync(slots), slots, policies, now, 'memory');
    const credits = this.credits;
    if (credits !== undefined) {
      const r = credits.take(slots, now);
      if (r !== undefined) {
        const more = credits.refillFor(slots, now);
        if (more !== undefined) this.refill(slots, more, now);
        return this.decide(r, slots, policies, now, 'redis');
      }
    }
    const wanted = credits?.wants(slots, now);
    const admitted = shared.reserve(slots, wanted).then(
      (r) => {
        if (wanted !== undefined) {
          if (r.credited) this.granted(credits!.grant(slots, wanted, r.outcomes, now));
          else credits!.answered(slots);
        }
        return this.decide(r, slots, policies, now, 'redis');
      },
      (err: unknown) => {
        if (wanted !== undefined) credits!.answered(slots);
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
    if (wanted !== undefined) this.track(admitted);
    return admitted;
  }

  /** admitNow with every answer as a promise (a refusal as a rejection). */
  admit(req: QuotaRequest): Promise<QuotaTicket> | undefined {
    try {
      const r = this.admitNow(req);
      return r === undefined || r instanceof Promise ? r : Promise.resolve(r);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A credit ran low: asks for the next one in the background (an admission of nothing, with a credit). */
  private refill(slots: readonly Slot[], amounts: number[], now: number): void {
    const credits = this.credits!;
    const empty = slots.map((s) => ({ ...s, add: 0 }));
    const reply = this.shared!.reserve(empty, amounts).then(
      (r) => {
        if (r.credited) this.granted(credits.grant(empty, amounts, r.outcomes, now));
        else credits.answered(empty);
      },
      (err: unknown) => {
        credits.answered(empty);
        this.warnStore(err);
      },
    );
    this.track(reply);
  }

  /** Current consumption per limit (for QuotaPolicy status), read without side effects. */
  async usage(policyId: string, scopeId = SHARED_SCOPE): Promise<{ kind: string; used: number; limit: number }[]> {
    const now = this.now();
    const slots: Slot[] = [];
    for (const p of this.index.all) {
      if (p.id !== policyId) continue;
      for (const l of p.limits) slots.push(makeSlot(l, scopeId, 0, now));
    }
    const used = await (this.shared ?? this.local).read(slots);
    return slots.map((s, i) => ({
      kind: s.limit.kind,
      used: s.limit.kind === 'costUSD' ? used[i]! / NANO_USD_PER_USD : used[i]!,
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
      if (s.limit.kind === 'requests' || s.add < 0) continue;
      settleBase.push({ key: s.key, field: s.field, delta: 0 });
      reserved.push(s.add);
      kinds.push(s);
    }
    let settled = false;
    const local = this.local;
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
        if (store === 'memory') return local.settle(items);
        return this.settleShared(items);
      },
    };
  }

  /** A settlement in the shared store: what a credit of this replica can take, the rest to the store. */
  private settleShared(items: SettleItem[]): Promise<void> {
    const rest = this.credits === undefined ? items : this.credits.absorb(items, this.now());
    if (rest.length === 0) return Promise.resolve();
    return this.shared!.settle(rest).catch((err: unknown) => this.warnStore(err));
  }

  private warnStore(err: unknown): void {
    const t = Date.now();
    if (t - this.lastStoreWarn < 10_000) return;
    this.lastStoreWarn = t;
    this.logger?.warn('quota store unreachable', { err: err instanceof Error ? err.message : String(err) });
  }

  async close(): Promise<void> {
    if (this.creditTimer !== undefined) clearInterval(this.creditTimer);
    if (this.credits) {
      await Promise.all(this.asks);
      void this.giveBack(this.credits.drain());
    }
    await this.local.close();
    await this.shared?.close();
  }
}

function buildSlots(policies: readonly PolicyRt[], req: QuotaRequest, now: number): Slot[] {
  const slots: Slot[] = [];
  for (const p of policies) {
    const scopeId = p.scope === 'shared' ? SHARED_SCOPE : (req.keyId ?? ANONYMOUS_SCOPE);
    for (const l of p.limits)
      if (req.requestsOnly !== true || l.kind === 'requests') slots.push(makeSlot(l, scopeId, addFor(l, req), now));
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

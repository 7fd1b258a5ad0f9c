/**
 * Provider capacity in the try loop (ADR 0063): before a try on a backend whose provider has `limits`, its
 * capacity is asked for (CallShared.capacity); a backend without capacity is skipped like an unhealthy one
 * and the next backend or tier is picked; the try's reservation is settled with its real tokens when it ends.
 * ProxyCall extends this (one object per request). A backend whose provider has no `limits` costs a property
 * read: no call, no allocation.
 */
import { GatewayError } from '../errors.js';
import type { BackendSkip } from '../pipeline/hooks.js';
import { pickBackend } from '../routing/select.js';
import type { CompiledBackend } from '../routing/table.js';
import { CallReport } from './call-report.js';
import type { CapacityGate, CapacityHold, CapacitySkip } from './types.js';

/** Skips kept for the report (access log, span, metric) per request. */
export const MAX_REPORTED_SKIPS = 8;

export abstract class CapacityStep extends CallReport {
  /** Bit-mask of the backends skipped for capacity (never picked again by this request). */
  protected skipMask = 0;
  /** This try was moved by the queue to a backend the gate had not seen, and gated again (once per try). */
  private regated = false;
  /** The running try's reservation, settled when it ends. */
  private hold: CapacityHold | undefined;
  /** The try's reserved tokens (estimated once per request; -1: not yet). */
  private capTokens = -1;
  /** Soonest time (ms from the skip) a skipped backend has capacity again. */
  private soonestFreeMs = Number.POSITIVE_INFINITY;

  /**
   * `b` when it has capacity (or needs none), else the first backend the route can still pick that has;
   * undefined when none has. A Promise only when an admission goes to the shared store.
   */
  protected gate(
    b: CompiledBackend,
    cap: CapacityGate,
  ): CompiledBackend | undefined | Promise<CompiledBackend | undefined> {
    for (let n: CompiledBackend | undefined = b; n !== undefined; ) {
      if (n.provider.limits === undefined) return n;
      if (this.capTokens < 0) this.capTokens = cap.estimate(this.r.operation, this.r.body);
      const r = cap.admit(n.provider, n.model ?? this.r.model, this.capTokens, Date.now());
      if (r instanceof Promise) {
        const at = n;
        return r.then((x) => {
          if (!isSkip(x)) return this.held(at, x);
          const next = this.skipped(at, x);
          return next === undefined ? undefined : this.gate(next, cap);
        });
      }
      if (!isSkip(r)) return this.held(n, r);
      n = this.skipped(n, r);
    }
    return undefined;
  }

  private held(b: CompiledBackend, h: CapacityHold): CompiledBackend {
    this.hold = h;
    return b;
  }

  /**
   * The first pick passed over ejected backends of its tier or a lower one: reported as `unhealthy` skips. A loop
   * over the route's few backends reading one number each; a record is made only when one was ejected.
   */
  protected noteEjected(b: CompiledBackend, now: number): void {
    if (b.health.isEjected(now)) return; // panic: every backend is ejected and all are tried anyway
    const all = this.r.route.backends;
    for (let i = 0; i < all.length; i++) {
      const x = all[i]!;
      if (x.priority > b.priority || !x.health.isEjected(now)) continue;
      if (this.skips === undefined) this.skips = [];
      if (this.skips.length < MAX_REPORTED_SKIPS)
        this.skips.push({ provider: x.provider, model: x.model ?? this.r.model, reason: 'unhealthy' });
    }
  }

  /** Records the skip and picks the next backend, never one already skipped. */
  private skipped(b: CompiledBackend, s: CapacitySkip): CompiledBackend | undefined {
    this.skipMask |= 1 << b.index;
    if (s.retryAfterMs < this.soonestFreeMs) this.soonestFreeMs = s.retryAfterMs;
    if (this.skips === undefined) this.skips = [];
    if (this.skips.length < MAX_REPORTED_SKIPS)
      this.skips.push({ provider: b.provider, model: b.model ?? this.r.model, reason: s.reason });
    const { health, random } = this.shared;
    return pickBackend(this.r.route, this.tried, health.now(), random, this.skipMask);
  }

  /** An answer's head: its rate-limit headers, for a provider with capacity on. */
  protected learnLimits(b: CompiledBackend, model: string, raw: readonly Buffer[]): void {
    if (b.provider.limits !== undefined) this.shared.capacity?.learn(b.provider, model, raw, Date.now());
  }

  /**
   * The queue moved this try from `b` to `got` (ADR 0066), whose provider has limits the gate has not seen:
   * true once per try, with `got`'s slot given back, so the caller runs the gate on it and asks for room again.
   */
  protected regate(got: CompiledBackend, b: CompiledBackend): boolean {
    if (got === b || this.regated || this.shared.capacity === undefined || got.provider.limits === undefined)
      return false;
    got.slots?.release();
    this.regated = true;
    return true;
  }

  /** The try ended: its reservation becomes its real tokens (none for a failed try). */
  protected settleHold(answered: boolean): void {
    this.regated = false;
    const h = this.hold;
    if (h === undefined) return;
    this.hold = undefined;
    const u = this.usage;
    const tokens = u !== undefined ? u.inputTokens + u.outputTokens : answered ? this.capTokens : 0;
    void h.settle({ tokens, costNano: 0 });
  }

  /**
   * The gate found no backend (`c` undefined: 429 capacity_exhausted), or the client left while it waited (the
   * reservation is given back; nothing went upstream).
   */
  protected gateFailed(c: CompiledBackend | undefined): void {
    if (c === undefined) {
      this.fail(this.capacityExhausted());
      return;
    }
    this.settleHold(false);
    this.fail(new GatewayError('upstream_error', 'client closed the request'));
  }

  /** The 429 when no backend has capacity: retry-after from the soonest reset, in whole seconds. */
  protected capacityExhausted(): GatewayError {
    const wait = Number.isFinite(this.soonestFreeMs) ? this.soonestFreeMs : 1000;
    const s = String(Math.max(1, Math.ceil(wait / 1000)));
    return new GatewayError(
      'capacity_exhausted',
      `route ${this.r.route.id}: no backend has provider capacity left; retry after ${s}s`,
      { headers: { 'retry-after': s } },
    );
  }
}

function isSkip(r: CapacityHold | CapacitySkip): r is CapacitySkip {
  return (r as CapacitySkip).reason !== undefined;
}

export type { BackendSkip };

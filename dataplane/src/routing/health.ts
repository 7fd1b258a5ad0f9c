/**
 * Passive health: a backend (provider + upstream model) that fails `failureThreshold` times in a row is
 * ejected for a cool-down that doubles on each repeated ejection (up to `maxEjectMs`); a success resets it.
 * Failures of tries that started before the latest ejection are the burst that caused it (they were in flight
 * when it happened): they neither extend nor escalate it, so escalation follows repeated ejections only.
 * State lives in a registry that outlives config reloads (keyed by provider id and model); each entry also
 * carries the backend's load stats (stats.ts), which live and are kept exactly as long.
 */
import { BackendStats } from './stats.js';

export interface HealthOptions {
  /** Consecutive failures that eject a backend; default 5. */
  failureThreshold?: number;
  /** First cool-down; default 30 s. */
  ejectMs?: number;
  /** Longest cool-down; default 5 min. */
  maxEjectMs?: number;
  /** Clock in ms (tests inject one); default Date.now. */
  now?: () => number;
}

export class BackendHealth {
  consecutiveFailures = 0;
  /** Times ejected since the last success. */
  ejections = 0;
  ejectedUntil = 0;
  /** Counts ejections ever (never reset): a try notes it when it starts, to tell a failure of an older try. */
  epoch = 0;
  /** This replica's load stats of the same backend (in flight, latency): routing/stats.ts. */
  readonly stats = new BackendStats();

  constructor(
    readonly key: string,
    private readonly registry: HealthRegistry,
  ) {}

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.ejections = 0;
    this.ejectedUntil = 0;
  }

  /**
   * Active health (ADR 0067): the provider's probes failed `unhealthyThreshold` times in a row. Ejected now
   * (the passive cool-down, escalated the same way) unless it already is, and kept ejected at least until
   * `holdUntil` (the next probe's end), so a backend whose probes keep failing stays out until one succeeds.
   */
  probeFailed(holdUntil: number): void {
    const r = this.registry;
    if (!this.isEjected(r.now())) {
      this.consecutiveFailures = 0;
      const ms = Math.min(r.maxEjectMs, r.ejectMs * 2 ** this.ejections);
      this.ejections++;
      this.epoch++;
      this.ejectedUntil = r.now() + ms;
    }
    if (this.ejectedUntil < holdUntil) this.ejectedUntil = holdUntil;
  }

  /** A failed try; `epoch` is this entry's `epoch` when the try started (absent: a try started now). */
  failure(epoch?: number): void {
    if (epoch !== undefined && epoch !== this.epoch) return;
    const r = this.registry;
    if (++this.consecutiveFailures < r.failureThreshold) return;
    this.consecutiveFailures = 0;
    const ms = Math.min(r.maxEjectMs, r.ejectMs * 2 ** this.ejections);
    this.ejections++;
    this.epoch++;
    this.ejectedUntil = r.now() + ms;
  }
}

export class HealthRegistry {
  readonly failureThreshold: number;
  readonly ejectMs: number;
  readonly maxEjectMs: number;
  readonly now: () => number;
  private readonly entries = new Map<string, BackendHealth>();

  constructor(options: HealthOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.ejectMs = options.ejectMs ?? 30_000;
    this.maxEjectMs = Math.max(options.maxEjectMs ?? 300_000, this.ejectMs);
    this.now = options.now ?? Date.now;
  }

  /** The health entry for a backend, shared by every route that uses the same provider and model. */
  get(providerId: string, model: string | undefined): BackendHealth {
    const key = `${providerId}\u0000${model ?? ''}`;
    let h = this.entries.get(key);
    if (h === undefined) {
      h = new BackendHealth(key, this);
      this.entries.set(key, h);
    }
    return h;
  }

  /** The entries of one provider (every model its route backends use), for its active probe. */
  ofProvider(providerId: string): BackendHealth[] {
    const prefix = `${providerId}\u0000`;
    const out: BackendHealth[] = [];
    for (const [k, h] of this.entries) if (k.startsWith(prefix)) out.push(h);
    return out;
  }

  /** Drops entries no longer referenced by the current config. */
  retain(keys: Set<string>): void {
    for (const k of this.entries.keys()) if (!keys.has(k)) this.entries.delete(k);
  }
}

/**
 * In-process counters: the engine when no Redis is configured, and the local approximation a replica
 * falls back to when Redis is unreachable under `failureMode: open`. Same algorithm as the Redis script
 * (slots.ts); counters expire by the injected clock and are swept periodically.
 */
import { type Counter, type ReserveResult, reserveInMaps, type Slot, settleInMaps, totalInMaps } from './slots.js';
import type { CounterStore, SettleItem } from './store.js';

export class MemoryStore implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly counters = new Map<string, Counter>();
  private readonly expiry = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly now: () => number = Date.now,
    sweepMs = 30_000,
  ) {
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
  }

  reserveSync(slots: readonly Slot[]): ReserveResult {
    this.expireTouched(slots);
    const r = reserveInMaps(this.counters, slots);
    if (r.allowed) {
      const t = this.now();
      for (const s of slots) if (s.add !== 0) this.expiry.set(s.key, t + s.ttlMs);
    }
    return r;
  }

  reserve(slots: readonly Slot[]): Promise<ReserveResult> {
    return Promise.resolve(this.reserveSync(slots));
  }

  settleSync(items: readonly SettleItem[]): void {
    for (const it of items) settleInMaps(this.counters, it.key, it.field, it.delta);
  }

  settle(items: readonly SettleItem[]): Promise<void> {
    this.settleSync(items);
    return Promise.resolve();
  }

  read(slots: readonly Slot[]): Promise<number[]> {
    this.expireTouched(slots);
    return Promise.resolve(slots.map((s) => totalInMaps(this.counters, s.key, s.minField)));
  }

  /** Number of live counters (tests check that they do not grow without bound). */
  get size(): number {
    return this.counters.size;
  }

  sweep(): void {
    const t = this.now();
    for (const [k, exp] of this.expiry) {
      if (exp <= t) {
        this.expiry.delete(k);
        this.counters.delete(k);
      }
    }
  }

  private expireTouched(slots: readonly Slot[]): void {
    const t = this.now();
    for (const s of slots) {
      const exp = this.expiry.get(s.key);
      if (exp !== undefined && exp <= t) {
        this.expiry.delete(s.key);
        this.counters.delete(s.key);
      }
    }
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }
}

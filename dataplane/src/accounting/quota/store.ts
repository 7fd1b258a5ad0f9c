/** Where quota counters live: in this process, or in Redis shared by every replica. */
import type { ReserveResult, Slot } from './slots.js';

export interface SettleItem {
  key: string;
  field: number;
  /** Real minus reserved (negative releases). */
  delta: number;
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Atomically checks every slot and, only if all admit, adds to all. `credits` (one amount per slot):
   * also add these for this replica to hand out itself, if the counters stay at most half full with them
   * (credits.ts); stores that do not grant credits ignore it.
   */
  reserve(slots: readonly Slot[], credits?: readonly number[]): Promise<ReserveResult>;
  /** Adjusts reserved amounts by the real usage; buckets that already left the window are skipped. */
  settle(items: readonly SettleItem[]): Promise<void>;
  /** Current window totals, for status reporting (no side effects beyond dropping expired buckets). */
  read(slots: readonly Slot[]): Promise<number[]>;
  close(): Promise<void>;
}

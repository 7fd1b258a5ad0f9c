/**
 * Per-replica concurrency caps (LLMProvider `spec.maxConcurrency`) and their bounded FIFO queues (ADR 0066,
 * docs/routing.md "Concurrency and queueing"). One ProviderSlots per capped provider, keyed by provider id:
 * several route backends (and routes) that use one provider share its slots. Built when a config loads and kept
 * across reloads for providers that keep their cap (requests in flight and waiting keep their places); a
 * provider without a cap has no entry, so its requests pay nothing.
 *
 * A slot is taken before a try and given back when the try ends; a freed slot goes straight to the oldest
 * waiter (the in-flight count does not dip, so a newcomer cannot overtake the queue).
 */
import type { ProviderConfig } from '../../../contract/gateway-config.js';
import type { CompiledBackend, CompiledRoute } from './table.js';

/** Waiting places per slot when `maxQueued` is not set. */
export const DEFAULT_QUEUE_PER_SLOT = 4;

/** How a wait for a slot ended. */
export type WaitOutcome = 'granted' | 'timeout' | 'cancelled' | 'shutdown';

export class ProviderSlots {
  inFlight = 0;
  /** Requests waiting now. */
  queued = 0;
  private head: SlotWaiter | undefined;
  private tail: SlotWaiter | undefined;

  constructor(
    readonly providerId: string,
    public max: number,
    public maxQueued: number,
  ) {}

  hasRoom(): boolean {
    return this.inFlight < this.max;
  }

  /** Takes a slot when one is free (no waiter can be ahead: a freed slot is handed to the queue first). */
  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }

  /** A try ended: its slot goes to the oldest waiter, or back to the pool (bound: the call passes it as is). */
  readonly release = (): void => {
    // A cap lowered by a reload: in-flight tries above it end before anyone waiting is let in.
    if (this.inFlight > this.max || this.head === undefined) {
      this.inFlight--;
      return;
    }
    this.head.settle('granted');
  };

  /** Queues a wait of at most `timeoutMs`; undefined when the queue is full. */
  wait(timeoutMs: number): SlotWaiter | undefined {
    if (this.queued >= this.maxQueued) return undefined;
    const w = new SlotWaiter(this, timeoutMs);
    w.prev = this.tail;
    if (this.tail === undefined) this.head = w;
    else this.tail.next = w;
    this.tail = w;
    this.queued++;
    return w;
  }

  /** @internal Takes a waiter out of the queue (granted: it keeps the slot it was handed). */
  unlink(w: SlotWaiter): void {
    if (w.prev === undefined) this.head = w.next;
    else w.prev.next = w.next;
    if (w.next === undefined) this.tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = w.next = undefined;
    this.queued--;
  }

  /** A reload raised the cap: the slots it added go to the waiters, oldest first. */
  fill(): void {
    while (this.head !== undefined && this.inFlight < this.max) {
      this.inFlight++;
      this.head.settle('granted');
    }
  }
}

/** One request waiting for a slot: settles once, when granted, at its deadline, or when cancelled. */
export class SlotWaiter {
  prev: SlotWaiter | undefined;
  next: SlotWaiter | undefined;
  readonly since = performance.now();
  readonly done: Promise<WaitOutcome>;
  private resolve!: (o: WaitOutcome) => void;
  private timer: NodeJS.Timeout | undefined;
  private settled = false;
  /** Cancelled after the slot was handed over but before the call resumed: the call gives the slot back. */
  lateCancel: 'cancelled' | 'shutdown' | undefined;

  constructor(
    readonly slots: ProviderSlots,
    timeoutMs: number,
  ) {
    this.done = new Promise((r) => {
      this.resolve = r;
    });
    this.timer = setTimeout(() => this.settle('timeout'), timeoutMs);
  }

  /** The client left (or the gateway is stopping): out of the queue, never sent upstream. */
  cancel(shutdown = false): void {
    if (this.settled) this.lateCancel = shutdown ? 'shutdown' : 'cancelled';
    else this.settle(shutdown ? 'shutdown' : 'cancelled');
  }

  /** @internal */
  settle(o: WaitOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.slots.unlink(this);
    this.resolve(o);
  }
}

/** The capped providers of a config, by id; entries of providers that keep a cap survive reloads. */
export class ConcurrencyRegistry {
  private slots = new Map<string, ProviderSlots>();

  sync(providers: readonly ProviderConfig[]): ReadonlyMap<string, ProviderSlots> {
    const next = new Map<string, ProviderSlots>();
    for (const p of providers) {
      const max = p.maxConcurrency;
      if (max === undefined) continue;
      const maxQueued = p.maxQueued ?? max * DEFAULT_QUEUE_PER_SLOT;
      let s = this.slots.get(p.id);
      if (s === undefined) s = new ProviderSlots(p.id, max, maxQueued);
      else {
        s.max = max;
        s.maxQueued = maxQueued;
        s.fill();
      }
      next.set(p.id, s);
    }
    // A provider that lost its cap (or left the config): its waiters are let in as its tries end, or time out.
    this.slots = next;
    return next;
  }

  get(providerId: string): ProviderSlots | undefined {
    return this.slots.get(providerId);
  }
}

/**
 * The backend to use instead of `chosen`, whose provider is at its cap: another backend of the same priority
 * tier that is not ejected, not tried by this request and has room (no cap, or a free slot), weighted random
 * among those like the tier's own choice. Undefined: none has room, so the request waits in the queue of
 * `chosen`'s provider. Lower tiers are never used for room (priority is the user's order; fallback is for
 * failures). Pure apart from the random source.
 */
export function roomInTier(
  route: CompiledRoute,
  chosen: CompiledBackend,
  tried: number,
  now: number,
  random: () => number,
): CompiledBackend | undefined {
  let tier: ReadonlyArray<CompiledBackend> | undefined;
  for (const t of route.tiers) if (t.includes(chosen)) tier = t;
  if (tier === undefined) return undefined;
  let total = 0;
  let count = 0;
  for (const b of tier) {
    if (!hasRoom(b, chosen, tried, now)) continue;
    total += b.weight;
    count++;
  }
  if (count === 0) return undefined;
  const uniform = total === 0;
  let r = random() * (uniform ? count : total);
  let last: CompiledBackend | undefined;
  for (const b of tier) {
    if (!hasRoom(b, chosen, tried, now)) continue;
    last = b;
    r -= uniform ? 1 : b.weight;
    if (r < 0) return b;
  }
  return last;
}

function hasRoom(b: CompiledBackend, chosen: CompiledBackend, tried: number, now: number): boolean {
  if (b === chosen || (tried & (1 << b.index)) !== 0 || b.health.isEjected(now)) return false;
  return b.slots === undefined || b.slots.hasRoom();
}

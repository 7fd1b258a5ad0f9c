/**
 * When the Redis store's queued operations go out: the batching policy, without the I/O (the store gives
 * the function that makes one script call and reports each call's return).
 *
 * - An admission at an idle moment (no call under way) goes as soon as the current task's synchronous
 *   work is done (a microtask): there is nothing to batch it with beyond what that task issues, and
 *   waiting for the end of the event-loop turn only adds to the request's time to first token.
 * - An admission while a call is under way goes at the end of this turn with the others of the turn
 *   (never behind the call under way: that would cost a round trip per request), or as soon as the call
 *   under way comes back, whichever is first.
 * - Settlements are off the request's path: while a call is under way they wait for it and ride along
 *   with the next call; otherwise they go at the end of this turn (with any admission of the turn).
 */

/** An operation in the queue: an admission ('r', reserve) or a settlement ('s'). */
export interface BatchOp {
  readonly kind: 'r' | 's';
}

export interface BatchScheduler {
  /** Runs `fn` once the current task's synchronous work is done. */
  soon(fn: () => void): void;
  /** Runs `fn` at the end of this event-loop turn. */
  endOfTurn(fn: () => void): void;
}

export const nodeScheduler: BatchScheduler = {
  soon: queueMicrotask,
  endOfTurn: (fn) => {
    setImmediate(fn);
  },
};

export class Batcher<T extends BatchOp> {
  private queue: T[] = [];
  private inFlight = 0;
  private soonPending = false;
  private turnPending = false;

  /**
   * @param send makes one call with `ops` (at most `maxBatch`, in queue order); the store must call
   *   `done()` once that call has come back, answered or failed.
   */
  constructor(
    private readonly send: (ops: T[]) => void,
    private readonly maxBatch: number,
    private readonly scheduler: BatchScheduler = nodeScheduler,
  ) {}

  /** Operations waiting for a call (tests and close() read it). */
  get queued(): number {
    return this.queue.length;
  }

  add(op: T): void {
    this.queue.push(op);
    if (op.kind === 'r' && this.inFlight === 0) {
      if (this.soonPending) return;
      this.soonPending = true;
      this.scheduler.soon(this.flushSoon);
    } else if (op.kind === 'r' || this.inFlight === 0) {
      if (this.turnPending) return;
      this.turnPending = true;
      this.scheduler.endOfTurn(this.flushTurn);
    }
    // A settlement while a call is under way: it goes with the next call (done() sends it at the latest).
  }

  /** A call came back: what waited for it goes out now, at most maxBatch operations a call. */
  done(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.queue.length > 0) this.flush();
  }

  /** Sends everything queued now, at most maxBatch operations a call. */
  flush(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    for (let i = 0; i < queue.length; i += this.maxBatch) {
      this.inFlight++;
      this.send(queue.length <= this.maxBatch ? queue : queue.slice(i, i + this.maxBatch));
    }
  }

  private readonly flushSoon = (): void => {
    this.soonPending = false;
    this.flush();
  };

  private readonly flushTurn = (): void => {
    this.turnPending = false;
    this.flush();
  };
}

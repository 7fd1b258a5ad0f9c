/**
 * Timeouts for the Redis store's calls, with one timer for all of them. A Node timer armed and cleared
 * per call (what ioredis' `commandTimeout` does) cost 15–40 µs of an admission's round trip at one
 * request at a time: arming the first timer of a duration and clearing the last one each touch the
 * timer lists and libuv. Every call has the same timeout, so deadlines come due in the order the calls
 * were made: a FIFO. The timer is armed for the oldest call still unanswered and is not cleared when a
 * call is answered; when it fires it drops the answered calls, fails the ones past their deadline and,
 * if calls remain, arms itself for the next one. At low load that is one timer per timeout period, not
 * one per call.
 */

export interface Deadline {
  /**
   * The call was answered (or failed on its own): true when it was in time, false when its deadline had
   * already passed (it was failed then, so its answer must be ignored).
   */
  finish(): boolean;
}

interface Pending extends Deadline {
  readonly at: number;
  readonly onTimeout: () => void;
  done: boolean;
}

export interface DeadlineClock {
  now(): number;
  /** Calls `fn` after `ms`; the timer must not keep the process alive. */
  after(ms: number, fn: () => void): void;
}

export const nodeClock: DeadlineClock = {
  now: () => performance.now(),
  after: (ms, fn) => {
    setTimeout(fn, ms).unref();
  },
};

export class Deadlines {
  private queue: Pending[] = [];
  private head = 0;
  private armed = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly clock: DeadlineClock = nodeClock,
  ) {}

  /** Starts a call's deadline; `onTimeout` runs once it passes with the call unfinished. */
  start(onTimeout: () => void): Deadline {
    const d: Pending = {
      at: this.clock.now() + this.timeoutMs,
      onTimeout,
      done: false,
      finish() {
        if (d.done) return false;
        d.done = true;
        return true;
      },
    };
    this.queue.push(d);
    if (!this.armed) this.arm(this.timeoutMs);
    return d;
  }

  private arm(ms: number): void {
    this.armed = true;
    this.clock.after(ms, this.fire);
  }

  private readonly fire = (): void => {
    // `armed` stays true while this runs: a call an onTimeout starts is armed for below, with the rest.
    const now = this.clock.now();
    while (this.head < this.queue.length) {
      const d = this.queue[this.head]!;
      if (!d.done && d.at > now) break;
      this.head++;
      if (!d.done) {
        d.done = true;
        d.onTimeout();
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.armed = false;
    const next = this.queue[this.head];
    if (next !== undefined) this.arm(Math.max(0, next.at - this.clock.now()));
  };
}

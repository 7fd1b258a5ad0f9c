/**
 * Coalesces bursts of "something changed" into runs of one job: one run at a time, at most one more
 * queued behind it, each after a short debounce; a failed run is retried a second later (not in a hot
 * loop). The controller's reconcile is the job.
 */
export class Coalescer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly debounceMs = 20,
    /** Runs are wanted now (e.g. only while leading). */
    private readonly enabled: () => boolean = () => true,
  ) {}

  schedule(): void {
    if (this.stopped || !this.enabled()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.job()
        .catch((error: unknown) => {
          this.onError(error);
          this.retryLater();
        })
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.schedule();
          }
        });
    }, this.debounceMs);
  }

  /** After a failure: run again in a second. */
  retryLater(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, 1000);
  }

  /** Waits until no run is under way or queued (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      await this.running;
      if (this.timer) await new Promise((r) => setTimeout(r, this.debounceMs + 5));
    }
  }

  /** No more runs; waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = undefined;
    await this.running;
  }
}

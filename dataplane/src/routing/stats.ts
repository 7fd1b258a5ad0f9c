/**
 * Per-backend load statistics of this replica, read by the load-balancing strategies (strategies.ts, ADR 0060):
 * requests in flight and a peak-EWMA of latency (time to first token for streams, to the whole answer
 * otherwise). One object per backend (provider + upstream model), owned by its health entry, so it is made at
 * config load and kept across reloads exactly as health is. Written by the attempt loop at a try's start, at
 * its first byte and at its end (proxy/call-report.ts); no timer, no allocation.
 */

/** Decay time of the latency average: a sample weighs e^(-Δt/τ) less per Δt of age (Finagle's default). */
export const LATENCY_TAU_MS = 10_000;

/** What a strategy reads of a backend's stats (tests pass plain objects). */
export interface StatsView {
  /** Tries started on this backend by this replica and not ended yet. */
  readonly inFlight: number;
  /** Samples taken so far (0: nothing is known of its latency). */
  readonly samples: number;
  /** The peak-EWMA of latency in ms as of `stampMs`. */
  readonly latencyMs: number;
  /** Clock time (ms, the health clock) of the latest sample. */
  readonly stampMs: number;
}

export class BackendStats implements StatsView {
  /**
   * Tries in flight on this replica: +1 when a try starts, -1 when it ends, exactly once per try (errors,
   * aborts and timeouts included). `least-busy` reads it; so may a per-backend concurrency cap.
   */
  inFlight = 0;
  samples = 0;
  latencyMs = 0;
  stampMs = 0;

  /** A successful try's latency (ms) at clock time `now`: the peak rule, else the time-weighted average. */
  observe(ms: number, now: number): void {
    const w = this.samples === 0 ? 0 : Math.exp(-Math.max(0, now - this.stampMs) / LATENCY_TAU_MS);
    const current = this.latencyMs * w;
    this.latencyMs = ms > current ? ms : current + ms * (1 - w);
    this.stampMs = now;
    this.samples++;
  }

  /**
   * A failed try's duration: it only ever raises the average (a timeout makes a backend look as slow as it
   * was), never lowers it (a fast 500 must not attract traffic; passive health deals with failures).
   */
  observeFailure(ms: number, now: number): void {
    if (ms > decayedLatency(this, now)) this.observe(ms, now);
  }
}

/** The latency average as of `now`: it decays toward 0 while no sample comes, so an idle backend is probed again. */
export function decayedLatency(s: StatsView, now: number): number {
  if (s.samples === 0) return 0;
  return s.latencyMs * Math.exp(-Math.max(0, now - s.stampMs) / LATENCY_TAU_MS);
}

/** The load of a backend without a sample but with tries in flight: worse than any measured one (Finagle). */
const UNKNOWN_BUSY = 1e15;

/**
 * Peak-EWMA load (Finagle/Linkerd): the decayed latency times (in flight + 1). A backend with no sample yet
 * is the best (0) while nothing is in flight on it, so a newcomer is probed at once, and the worst while its
 * first tries are under way, so a slow newcomer does not draw every request until it answers.
 */
export function latencyLoad(s: StatsView, now: number): number {
  if (s.samples === 0) return s.inFlight === 0 ? 0 : UNKNOWN_BUSY + s.inFlight;
  return decayedLatency(s, now) * (s.inFlight + 1);
}

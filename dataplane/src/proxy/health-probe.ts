/**
 * Active health checks (LLMProvider `spec.healthCheck`, ADR 0067, docs/routing.md "Active health checks"): one
 * timer per probed provider (not per route backend), started when a config loads and stopped when the provider
 * leaves it, its check changes, or the gateway closes. A probe is a one-token chat completion or a GET of the
 * type's models list, built by the provider's own adapter with its own credential and sent through its own
 * upstream pool, like a request. Results feed passive health (routing/health.ts) for every backend of the
 * provider: a success readmits them at once; `unhealthyThreshold` failures in a row eject them, and they stay
 * ejected while the probes keep failing. A 429 says the provider is alive but busy: it counts neither way.
 */
import type { ProviderConfig } from '../../../contract/gateway-config.js';
import type { Logger } from '../log.js';
import { providerTypeConfig } from '../providers/configs.js';
import type { HealthRegistry } from '../routing/health.js';
import { resolveCredential } from './credentials.js';
import type { ProviderRegistry } from './types.js';
import type { UpstreamPools } from './upstream.js';

/** The timer the prober schedules probes on (tests inject one they fire themselves). */
export interface ProbeTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** How a probe ended: ok, failed (with why), or busy (429: neither readmits nor ejects). */
export type ProbeOutcome = { ok: true } | { ok: false; reason: string } | { ok: 'busy' };

export interface ProberOptions {
  readonly pools: UpstreamPools;
  readonly providers: ProviderRegistry;
  readonly health: HealthRegistry;
  readonly logger: Logger;
  /** Default: setTimeout/clearTimeout, unref'd (probes never keep the process alive). */
  readonly timers?: ProbeTimers | undefined;
  /** Told every probe's outcome, after it was applied to health (logs and tests). */
  readonly onProbe?: ((providerId: string, outcome: ProbeOutcome) => void) | undefined;
}

const realTimers: ProbeTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Probed {
  provider: ProviderConfig;
  /** The check as configured (JSON): a reload with the same one keeps the timer. */
  readonly key: string;
  handle: unknown;
  failures: number;
  stopped: boolean;
}

export class HealthProber {
  private readonly timers: ProbeTimers;
  private probed = new Map<string, Probed>();

  constructor(private readonly o: ProberOptions) {
    this.timers = o.timers ?? realTimers;
  }

  /** A config loaded: a timer for each provider with a healthCheck; the first probe runs at once. */
  sync(providers: readonly ProviderConfig[]): void {
    const next = new Map<string, Probed>();
    for (const p of providers) {
      if (p.healthCheck === undefined) continue;
      const key = JSON.stringify(p.healthCheck);
      const old = this.probed.get(p.id);
      if (old !== undefined && old.key === key) {
        old.provider = p; // the next probe uses the new credential, base URL and timeouts
        next.set(p.id, old);
        continue;
      }
      const s: Probed = { provider: p, key, handle: undefined, failures: 0, stopped: false };
      s.handle = this.timers.set(() => this.tick(s), 0);
      next.set(p.id, s);
    }
    for (const [id, s] of this.probed) if (next.get(id) !== s) this.stop(s);
    this.probed = next;
  }

  close(): void {
    for (const s of this.probed.values()) this.stop(s);
    this.probed = new Map();
  }

  private stop(s: Probed): void {
    s.stopped = true;
    this.timers.clear(s.handle);
  }

  private tick(s: Probed): void {
    if (s.stopped) return;
    s.handle = undefined;
    this.probe(s.provider).then(
      (outcome) => this.apply(s, outcome),
      (err: unknown) => this.apply(s, { ok: false, reason: err instanceof Error ? err.message : String(err) }),
    );
  }

  private apply(s: Probed, outcome: ProbeOutcome): void {
    if (s.stopped) return;
    const p = s.provider;
    const check = p.healthCheck!;
    const entries = this.o.health.ofProvider(p.id);
    if (outcome.ok === true) {
      s.failures = 0;
      for (const h of entries) h.success();
    } else if (outcome.ok === false) {
      s.failures++;
      if (s.failures >= check.unhealthyThreshold) {
        // Out until the next probe has had time to succeed.
        const holdUntil = this.o.health.now() + check.intervalMs + check.timeoutMs;
        for (const h of entries) h.probeFailed(holdUntil);
      }
      this.o.logger.warn('health probe failed', { provider: p.id, reason: outcome.reason, failures: s.failures });
    }
    try {
      this.o.onProbe?.(p.id, outcome);
    } catch {}
    s.handle = this.timers.set(() => this.tick(s), check.intervalMs);
  }

  /** One probe of `p`: its adapter's request (or models path), its credential, its pool. */
  async probe(p: ProviderConfig): Promise<ProbeOutcome> {
    const check = p.healthCheck!;
    const target = this.o.pools.target(p.id);
    if (target === undefined) return { ok: false, reason: 'no upstream pool' };
    const resolved = resolveCredential(p);
    const credential = typeof resolved === 'object' ? await resolved : resolved;
    const model = check.model ?? p.models[0]?.name ?? '';
    const built = this.o.providers.adapterFor(p.type).buildRequest({
      provider: p,
      operation: 'chat',
      clientFormat: 'openai',
      body: { model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 },
      upstreamModel: model,
      stream: false,
      credential,
      now: Math.floor(Date.now() / 1000),
    });
    let path: string;
    let method: 'GET' | 'POST' = 'POST';
    let body: string | undefined = built.body;
    const headers = built.headers;
    if (check.request === 'models') {
      method = 'GET';
      body = undefined;
      delete headers['content-type'];
      delete headers['content-length'];
      path = `${new URL(p.baseUrl).pathname.replace(/\/+$/, '')}${providerTypeConfig(p.type).modelsPath!}`;
    } else {
      const u = new URL(built.url);
      path = `${u.pathname}${u.search}`;
    }
    const signal = AbortSignal.timeout(check.timeoutMs);
    try {
      const res = await target.pool.request({ path, method, headers, body, signal });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
      if (res.statusCode === 429) return { ok: 'busy' };
      return { ok: false, reason: `answered ${res.statusCode}` };
    } catch (err) {
      const reason = signal.aborted ? `no answer within ${check.timeoutMs} ms` : (err as Error).message;
      return { ok: false, reason };
    }
  }
}

/**
 * Provider capacity (LLMProvider spec.limits and spec.models[].limits, ADR 0063): the provider account's own
 * requests and tokens per window, counted for all replicas. No second counter engine: each limit is a shared
 * QuotaPolicy in all but name, run by a QuotaService of its own over the same slots, Redis script and credits,
 * under the `tollgate:capacity:v1:` keys (contract/shared-state.ts). Asked per try for the backend being tried
 * (proxy/call.ts), settled with the try's real tokens.
 *
 * Also heeds the upstream's rate-limit headers (rate-limit-headers.ts): a reading with no requests left, or
 * fewer tokens left than the try needs, makes the backend skipped until the reset the headers named.
 *
 * Shared store unreachable: in-process counters take over (QuotaService failureMode open), each replica then
 * counts alone; the provider still enforces its own limit, and its 429 is failed over like any other.
 */
import type { ProviderConfig, QuotaPolicyConfig } from '../../../../contract/gateway-config.js';
import { CAPACITY_KEY_PREFIX, capacityCounterOwner, SHARED_SCOPE } from '../../../../contract/shared-state.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Operation } from '../../providers/types.js';
import type { CapacityGate, CapacityHold, CapacitySkip } from '../../proxy/types.js';
import { requestedMaxTokens, requestText, roughInputTokens } from '../estimate.js';
import { compilePolicy, type PolicyRt } from '../quota/policy-index.js';
import { RedisStore } from '../quota/redis-store.js';
import { QuotaService, type QuotaTicket } from '../quota/service.js';
import type { CounterStore } from '../quota/store.js';
import { readRateLimitHeaders } from './rate-limit-headers.js';

/** What the headers of a backend's latest answers said (epoch ms; 0: nothing known). */
interface Learned {
  requestsBlockedUntil: number;
  tokensRemaining: number;
  tokensKnownUntil: number;
}

interface ProviderCapacity {
  /** The provider's own limits (may be empty: headers only). */
  readonly policies: readonly PolicyRt[];
  /** Model → the provider's policies plus the model's own. */
  readonly byModel: ReadonlyMap<string, readonly PolicyRt[]>;
  /** Upstream model → the latest header reading. */
  readonly learned: Map<string, Learned>;
}

/** A try whose provider counts nothing (only headers): nothing to settle. */
const NO_HOLD: CapacityHold = Object.freeze({ settle: () => Promise.resolve() });

/** A reading without a reset is trusted this long (the next answer renews or clears it). */
const READING_WITHOUT_RESET_MS = 1000;

export interface CapacityServiceOptions {
  store?: CounterStore;
  now?: () => number;
  logger?: Logger;
  /** Output tokens a try reserves when the request sets no max tokens. */
  defaultMaxTokens?: number;
  credits?: boolean;
}

export class CapacityService implements CapacityGate {
  private readonly quota: QuotaService;
  private readonly now: () => number;
  private readonly defaultMaxTokens: number;
  private byProvider = new Map<string, ProviderCapacity>();

  constructor(options: CapacityServiceOptions = {}) {
    this.now = options.now ?? Date.now;
    this.defaultMaxTokens = options.defaultMaxTokens ?? 4096;
    this.quota = new QuotaService({
      store: options.store,
      now: this.now,
      logger: options.logger,
      credits: options.credits,
    });
  }

  /** True when some provider of the config has capacity on (else the gateway leaves `capacity` off). */
  get active(): boolean {
    return this.byProvider.size > 0;
  }

  /** Rebuilds the tables from a config's providers; counters are kept (same limits, same keys). */
  apply(providers: readonly ProviderConfig[]): void {
    const configs: QuotaPolicyConfig[] = [];
    const next = new Map<string, ProviderCapacity>();
    for (const p of providers) {
      if (p.limits === undefined) continue;
      const own = p.limits.length === 0 ? [] : [compile(policyConfig(p, undefined, p.limits), configs)];
      const byModel = new Map<string, readonly PolicyRt[]>();
      for (const m of p.models)
        if (m.limits !== undefined && m.limits.length > 0)
          byModel.set(m.name, [...own, compile(policyConfig(p, m.name, m.limits), configs)]);
      next.set(p.id, { policies: own, byModel, learned: this.byProvider.get(p.id)?.learned ?? new Map() });
    }
    this.byProvider = next;
    this.quota.applyPolicies(configs);
  }

  estimate(operation: Operation, body: Record<string, unknown>): number {
    const input = roughInputTokens(requestText(operation, body).text.length);
    return input + (operation === 'embeddings' ? 0 : (requestedMaxTokens(body) ?? this.defaultMaxTokens));
  }

  admit(
    provider: ProviderConfig,
    model: string,
    tokens: number,
    now: number,
  ): CapacityHold | CapacitySkip | Promise<CapacityHold | CapacitySkip> {
    const cap = this.byProvider.get(provider.id);
    if (cap === undefined) return NO_HOLD;
    const l = cap.learned.get(model);
    if (l !== undefined) {
      if (now < l.requestsBlockedUntil)
        return { reason: 'rate_limit_headers', retryAfterMs: l.requestsBlockedUntil - now };
      if (now < l.tokensKnownUntil && l.tokensRemaining < tokens)
        return { reason: 'rate_limit_headers', retryAfterMs: l.tokensKnownUntil - now };
    }
    const policies = cap.byModel.get(model) ?? cap.policies;
    if (policies.length === 0) return NO_HOLD;
    let r: QuotaTicket | Promise<QuotaTicket> | undefined;
    try {
      r = this.quota.admitNow({ keyId: undefined, model, reserveTokens: tokens, reserveCostNano: 0, policies });
    } catch (err) {
      return refusal(err);
    }
    if (r === undefined) return NO_HOLD;
    return r instanceof Promise ? r.then(undefined, refusal) : r;
  }

  learn(provider: ProviderConfig, model: string, raw: readonly Buffer[], now: number): void {
    const reading = readRateLimitHeaders(raw, now);
    if (reading === undefined) return;
    const cap = this.byProvider.get(provider.id);
    if (cap === undefined) return;
    let l = cap.learned.get(model);
    if (l === undefined) {
      l = { requestsBlockedUntil: 0, tokensRemaining: 0, tokensKnownUntil: 0 };
      cap.learned.set(model, l);
    }
    if (reading.requestsRemaining === 0)
      l.requestsBlockedUntil = reading.requestsResetAt > now ? reading.requestsResetAt : now + READING_WITHOUT_RESET_MS;
    else if (reading.requestsRemaining > 0) l.requestsBlockedUntil = 0;
    if (reading.tokensRemaining >= 0) {
      l.tokensRemaining = reading.tokensRemaining;
      l.tokensKnownUntil = reading.tokensResetAt > now ? reading.tokensResetAt : now + READING_WITHOUT_RESET_MS;
    }
  }

  /** Current consumption per limit of a provider (or one of its models), read without side effects. */
  usage(providerId: string, model?: string): Promise<{ kind: string; used: number; limit: number }[]> {
    return this.quota.usage(capacityCounterOwner(providerId, model), SHARED_SCOPE);
  }

  close(): Promise<void> {
    return this.quota.close();
  }
}

/** A provider's (or model's) limits as a shared QuotaPolicy no key selects: the quota engine counts it as asked. */
function policyConfig(
  p: ProviderConfig,
  model: string | undefined,
  limits: NonNullable<ProviderConfig['limits']>,
): QuotaPolicyConfig {
  return {
    id: capacityCounterOwner(p.id, model),
    namespace: p.namespace,
    name: p.name,
    models: [],
    scope: 'shared',
    limits: limits.map((l) => ({ kind: l.kind, amount: l.amount, window: l.window })),
    failureMode: 'open',
    keys: [],
    matchesAnonymous: false,
  };
}

function compile(c: QuotaPolicyConfig, all: QuotaPolicyConfig[]): PolicyRt {
  all.push(c);
  return compilePolicy(c, true);
}

/** The quota engine's refusal as a skip (its retry-after is whole seconds; the soonest free bucket). */
function refusal(err: unknown): CapacitySkip {
  if (err instanceof GatewayError && err.code === 'quota_exceeded') {
    const s = Number(err.headers?.['retry-after']);
    return { reason: 'capacity', retryAfterMs: Number.isFinite(s) && s > 0 ? s * 1000 : 1000 };
  }
  throw err;
}

/** The capacity service of a gateway: Redis-backed when a URL is given (keys under tollgate:capacity:v1:). */
export function createCapacity(options: {
  redisUrl?: string | undefined;
  redisTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  defaultMaxTokens?: number | undefined;
  credits?: boolean;
}): CapacityService {
  const store = options.redisUrl
    ? new RedisStore({ url: options.redisUrl, timeoutMs: options.redisTimeoutMs, keyPrefix: CAPACITY_KEY_PREFIX })
    : undefined;
  return new CapacityService({
    store,
    logger: options.logger,
    defaultMaxTokens: options.defaultMaxTokens,
    credits: options.credits,
  });
}

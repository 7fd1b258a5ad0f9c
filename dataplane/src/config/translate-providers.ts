/**
 * LLMProviders in the config translation: the spec, the type's own block (each provider folder's config.ts
 * says what it needs, which default endpoint it has and which GatewayConfig fields it adds), the base URL and
 * the credential Secret. Knows no provider type by name and imports no adapter (ADR 0046). Pure.
 */
import type { CapacityLimit, ProviderConfig } from '../../../contract/gateway-config.js';
import { PROVIDER_CONFIGS, providerTypeConfig } from '../providers/configs.js';
import { parseDuration } from './duration.js';
import { LLMProviderSpec, type RawResource } from './resources.js';
import {
  accept,
  DEFAULTS,
  idOf,
  newStatus,
  parseSpec,
  REASONS,
  type ResourceStatus,
  resolve,
} from './translate-common.js';
import { type SecretIndex, type SecretValue, secretValue } from './translate-secrets.js';

export interface ProviderProblem {
  reason: string;
  /** 'rejected' (Accepted=False) or 'unresolved' (ResolvedRefs=False). */
  state: 'rejected' | 'unresolved';
}

/** Block key (spec.bedrock) → the type that reads it. */
const BLOCK_OWNERS: ReadonlyMap<string, string> = new Map(
  PROVIDER_CONFIGS.flatMap((c) => (c.block === undefined ? [] : [[c.block.key, c.type] as const])),
);

/** A spec block of another type than the provider's: the message, or undefined. */
function foreignBlock(spec: Readonly<Record<string, unknown>>, type: string): string | undefined {
  for (const [key, owner] of BLOCK_OWNERS) {
    if (owner !== type && spec[key] !== undefined)
      return `spec.${key}: only a provider of type ${owner} reads spec.${key}; this one is of type ${type} (remove the block or change spec.type)`;
  }
  return undefined;
}

/** The GatewayConfig healthCheck of a spec, or what is wrong with it (ADR 0067). */
function healthCheckOf(spec: LLMProviderSpec, hasModelsList: boolean): ProviderConfig['healthCheck'] | string {
  const h = spec.healthCheck;
  if (h === undefined) return undefined;
  if (h.request === 'models' && !hasModelsList)
    return `spec.healthCheck.request: a provider of type ${spec.type} has no models list to probe; use request: completion (with a model)`;
  const model = h.request === 'completion' ? (h.model ?? spec.models?.[0]?.name) : undefined;
  if (h.request === 'completion' && model === undefined)
    return "spec.healthCheck.model: a completion probe needs a model (set it, or list the provider's spec.models)";
  const intervalMs = parseDuration(h.interval);
  const timeoutMs = parseDuration(h.timeout);
  if (intervalMs < 1000) return `spec.healthCheck.interval: at least 1s (got ${h.interval})`;
  if (timeoutMs < 1 || timeoutMs > intervalMs)
    return `spec.healthCheck.timeout: between 1ms and the interval (${h.interval}), got ${h.timeout}`;
  return {
    intervalMs,
    timeoutMs,
    request: h.request,
    ...(model !== undefined ? { model } : {}),
    unhealthyThreshold: h.unhealthyThreshold,
  };
}

export function translateProviders(
  raw: RawResource[],
  secrets: SecretIndex,
  statuses: ResourceStatus[],
): { providers: Map<string, ProviderConfig>; providerProblems: Map<string, ProviderProblem> } {
  const providers = new Map<string, ProviderConfig>();
  const providerProblems = new Map<string, ProviderProblem>();
  for (const r of raw) {
    const id = idOf(r.metadata);
    const status = newStatus('LLMProvider', r.metadata);
    statuses.push(status);
    const reject = (reason: string, message: string) => {
      accept(status, false, reason, message);
      providerProblems.set(id, { reason, state: 'rejected' });
    };

    const parsed = parseSpec(LLMProviderSpec, 'LLMProvider', id, r.spec);
    if (parsed.invalid !== undefined) {
      reject(REASONS.invalid, parsed.invalid);
      continue;
    }
    const spec = parsed.spec;
    const cfg = providerTypeConfig(spec.type);
    // The blocks are built from the provider folders, so the parsed spec reads them by key.
    const blocks = spec as unknown as Readonly<Record<string, unknown>>;
    const block = cfg.block === undefined ? undefined : blocks[cfg.block.key];
    const blockProblem =
      foreignBlock(blocks, spec.type) ?? (block === undefined ? cfg.block?.requiredMessage : cfg.check?.(block));
    if (blockProblem !== undefined) {
      reject(REASONS.invalid, blockProblem);
      continue;
    }
    const healthCheck = healthCheckOf(spec, cfg.modelsPath !== undefined);
    if (typeof healthCheck === 'string') {
      reject(REASONS.invalid, healthCheck);
      continue;
    }
    let baseUrl: string;
    if (spec.serviceRef) {
      const ref = spec.serviceRef;
      baseUrl = `http://${ref.name}.${r.metadata.namespace}.svc.cluster.local:${ref.port}${ref.path ?? ''}`;
    } else if (spec.endpoint) {
      const url = new URL(spec.endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        reject(REASONS.invalid, `spec.endpoint: must be an http:// or https:// URL, got scheme "${url.protocol}"`);
        continue;
      }
      if (url.username || url.password || url.search || url.hash) {
        reject(
          REASONS.invalid,
          'spec.endpoint: must not carry credentials, a query or a fragment; put credentials in spec.auth.secretRef',
        );
        continue;
      }
      baseUrl = spec.endpoint;
    } else {
      const fallback = cfg.defaultEndpoint?.(block);
      if (fallback === undefined) {
        reject(
          REASONS.invalid,
          `spec.endpoint: a provider of type ${spec.type} needs spec.endpoint (a base URL) or spec.serviceRef (an in-cluster Service)`,
        );
        continue;
      }
      baseUrl = fallback;
    }
    baseUrl = baseUrl.replace(/\/+$/, '');
    if (cfg.baseUrl !== undefined) baseUrl = cfg.baseUrl(baseUrl, block);
    accept(status, true, REASONS.accepted, 'spec is valid');

    let credential: string | undefined;
    if (spec.auth) {
      const ref = spec.auth.secretRef;
      const secretId = `${r.metadata.namespace}/${ref.name}`;
      const secret = secrets.get(secretId);
      const v: SecretValue | undefined = secret ? secretValue(secret, ref.key) : undefined;
      if (v === undefined || !v.ok) {
        const reason =
          v === undefined
            ? REASONS.secretNotFound
            : v.reason === 'InvalidSecretData'
              ? REASONS.invalidSecretData
              : REASONS.keyNotFound;
        const message =
          v === undefined
            ? `spec.auth.secretRef: Secret ${secretId} not found; create it with the credential under key "${ref.key}"`
            : v.reason === 'InvalidSecretData'
              ? `spec.auth.secretRef: Secret ${secretId} key "${ref.key}" is not valid base64 in data; use stringData for plain text`
              : `spec.auth.secretRef: Secret ${secretId} has no (non-empty) key "${ref.key}"`;
        resolve(status, false, reason, `${message}; the provider is not served until then`);
        providerProblems.set(id, { reason, state: 'unresolved' });
        continue;
      }
      credential = v.value;
      const keyProblem = cfg.credentialProblem?.(credential);
      if (keyProblem !== undefined) {
        resolve(
          status,
          false,
          REASONS.invalidSecretData,
          `spec.auth.secretRef: Secret ${secretId} key "${ref.key}" holds ${keyProblem}; the provider is not served until then`,
        );
        providerProblems.set(id, { reason: REASONS.invalidSecretData, state: 'unresolved' });
        continue;
      }
    }
    resolve(status, true, REASONS.resolved, spec.auth ? 'credential Secret resolved' : 'no references to resolve');

    const config = {
      id,
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      type: spec.type,
      baseUrl,
      models: (spec.models ?? []).map((m) => ({
        name: m.name,
        ...(m.contextWindow !== undefined ? { contextWindow: m.contextWindow } : {}),
        ...(m.pricing !== undefined ? { pricing: { ...m.pricing } } : {}),
        ...(m.limits !== undefined ? { limits: m.limits.map(capacityLimit) } : {}),
      })),
      ...(spec.limits !== undefined ? { limits: spec.limits.map(capacityLimit) } : {}),
      connectTimeoutMs: parseDuration(spec.timeouts?.connect ?? DEFAULTS.connectTimeout),
      requestTimeoutMs: parseDuration(spec.timeouts?.request ?? DEFAULTS.requestTimeout),
      ...(credential !== undefined ? { credential } : {}),
      ...(healthCheck !== undefined ? { healthCheck } : {}),
      ...(spec.maxConcurrency !== undefined
        ? {
            maxConcurrency: spec.maxConcurrency,
            maxQueued: spec.maxQueued ?? spec.maxConcurrency * DEFAULTS.queuedPerSlot,
          }
        : {}),
      // The type's own fields (bedrock: region); GatewayConfigSchema checks each type has its own.
      ...cfg.gatewayFields?.(block),
      ...(r.metadata.generation !== undefined ? { generation: r.metadata.generation } : {}),
    } as ProviderConfig;
    providers.set(id, config);
  }
  return { providers, providerProblems };
}

/** spec.limits entry → the contract's CapacityLimit (windows in ms, or the calendar month). */
function capacityLimit(l: { requests?: number | undefined; tokens?: number | undefined; per: string }): CapacityLimit {
  const window: CapacityLimit['window'] =
    l.per === 'month' ? { type: 'calendarMonth' } : { type: 'sliding', ms: parseDuration(l.per) };
  return l.requests !== undefined
    ? { kind: 'requests', amount: l.requests, window }
    : { kind: 'tokens', amount: l.tokens!, window };
}

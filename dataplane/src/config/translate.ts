/**
 * The pure translation from user resources (LLMProvider, LLMRoute, QuotaPolicy, key and credential Secrets)
 * to the data plane's GatewayConfig plus one status per resource. No I/O, no clock, no randomness: the same
 * snapshot always gives the same output (sorted), so the operator and `tollgate run` share one code path.
 *
 * One invalid resource never blocks the others: it gets Accepted=False (or ResolvedRefs=False) with a
 * message naming the field to fix, and is left out; everything else is served.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  type ApiKeyConfig,
  type GatewayConfig,
  GatewayConfigSchema,
  type ProviderConfig,
  type QuotaPolicyConfig,
  type QuotaWindow,
  type RouteConfig,
} from '../../../contract/gateway-config.js';
import { isAwsKeysJson, parseBedrockCredential } from '../providers/bedrock/adapter.js';
import { isImplementedProviderType } from '../providers/index.js';
import { isServiceAccountJson, parseServiceAccount } from '../providers/vertex/service-account.js';
import { parseDuration } from './duration.js';
import {
  API_KEY_LABEL,
  type LabelSelector,
  LLMProviderSpec,
  LLMRouteSpec,
  type ObjectMeta,
  PROVIDER_TYPES,
  type ProviderType,
  QuotaPolicySpec,
  type RawResource,
  type RawSecret,
  type ResourceKind,
  type ResourceSnapshot,
} from './resources.js';

export type ConditionType = 'Accepted' | 'ResolvedRefs';

export interface StatusCondition {
  type: ConditionType;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Status of one resource as translate sees it; the operator adds Programmed and writes metav1.Conditions. */
export interface ResourceStatus {
  kind: ResourceKind | 'Secret';
  namespace: string;
  name: string;
  generation?: number;
  conditions: StatusCondition[];
}

export interface TranslateOptions {
  /** Monotonic version stamped on the config. */
  version: number;
  /** When false and no keys exist, the data plane serves requests without a key (`tollgate run`). */
  requireKeys: boolean;
}

export interface TranslateResult {
  config: GatewayConfig;
  statuses: ResourceStatus[];
}

/** Condition reasons translate emits (stable: users and alerts match on them). */
export const REASONS = {
  accepted: 'Accepted',
  resolved: 'ResolvedRefs',
  invalid: 'Invalid',
  unsupportedType: 'UnsupportedType',
  modelConflict: 'ModelConflict',
  duplicateKey: 'DuplicateKey',
  missingKey: 'MissingKey',
  secretNotFound: 'SecretNotFound',
  keyNotFound: 'KeyNotFound',
  invalidSecretData: 'InvalidSecretData',
  backendNotFound: 'BackendNotFound',
  noMatchingKeys: 'NoMatchingKeys',
} as const;

/**
 * Provider types the data plane has an adapter for, read from the provider registry so the two cannot
 * disagree; a type the schema accepts without an adapter is rejected here with UnsupportedType.
 */
export const SUPPORTED_PROVIDER_TYPES: readonly ProviderType[] = PROVIDER_TYPES.filter(isImplementedProviderType);

const DEFAULT_ENDPOINTS: Partial<Record<ProviderType, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com/v1beta',
};

export const DEFAULTS = {
  routeTimeout: '120s',
  retryAttempts: 3,
  backoffBase: '100ms',
  backoffMax: '2s',
  retryOn: ['429', '5xx', 'timeout', 'connect-failure'] as RouteConfig['retry']['on'],
  connectTimeout: '5s',
  requestTimeout: '300s',
  azureApiVersion: '2024-10-21',
} as const;

const KIND_ORDER: Record<ResourceStatus['kind'], number> = { LLMProvider: 0, LLMRoute: 1, QuotaPolicy: 2, Secret: 3 };

// ---------------------------------------------------------------------------------------------------------

export function translate(snapshot: ResourceSnapshot, opts: TranslateOptions): TranslateResult {
  const statuses: ResourceStatus[] = [];
  const secrets = indexSecrets(snapshot.secrets);

  const apiKeys = translateKeys(snapshot.secrets, statuses);
  const { providers, providerProblems } = translateProviders(dedupe(snapshot.providers), secrets, statuses);
  const routes = translateRoutes(dedupe(snapshot.routes), providers, providerProblems, statuses);
  const quotaPolicies = translateQuotaPolicies(dedupe(snapshot.quotaPolicies), apiKeys, statuses);

  const body = {
    providers: [...providers.values()].sort(byId),
    routes: routes.sort(byId),
    quotaPolicies: quotaPolicies.sort(byId),
    apiKeys: apiKeys.sort(byId),
    requireKeys: opts.requireKeys,
  };
  const config: GatewayConfig = { version: opts.version, hash: configHash(body), ...body };
  const checked = GatewayConfigSchema.safeParse(config);
  if (!checked.success) {
    // A bug in translate, not a user error: every user error is caught above and reported in a status.
    throw new Error(`translate produced an invalid GatewayConfig: ${formatZodError(checked.error)}`);
  }
  statuses.sort(
    (a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || cmp(a.namespace, b.namespace) || cmp(a.name, b.name),
  );
  return { config, statuses };
}

/** sha256 over the canonical JSON (keys sorted, undefined dropped) of the config without version and hash. */
export function configHash(body: Omit<GatewayConfig, 'version' | 'hash'>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    if (obj[k] === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  }
  return `{${parts.join(',')}}`;
}

/** `spec.retry.attempts: Too big: expected number to be <=10; spec.models[0]: ...` */
export function formatZodError(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
        prefix,
      );
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

// ---------------------------------------------------------------------------------------------------------
// Secrets and API keys

type SecretIndex = Map<string, RawSecret>;

function indexSecrets(secrets: RawSecret[]): SecretIndex {
  const index: SecretIndex = new Map();
  for (const s of secrets) {
    const id = idOf(s.metadata);
    if (!index.has(id)) index.set(id, s);
  }
  return index;
}

type SecretValue = { ok: true; value: string } | { ok: false; reason: 'KeyNotFound' | 'InvalidSecretData' };

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/** Reads one key of a Secret: `stringData` wins over `data` (as the API server merges them); whitespace trimmed. */
function secretValue(secret: RawSecret, key: string): SecretValue {
  const plain = secret.stringData?.[key];
  if (typeof plain === 'string') return nonEmpty(plain.trim());
  const encoded = secret.data?.[key];
  if (typeof encoded !== 'string') return { ok: false, reason: 'KeyNotFound' };
  if (!BASE64.test(encoded)) return { ok: false, reason: 'InvalidSecretData' };
  return nonEmpty(Buffer.from(encoded, 'base64').toString('utf8').trim());
}

function nonEmpty(value: string): SecretValue {
  return value === '' ? { ok: false, reason: 'KeyNotFound' } : { ok: true, value };
}

function isKeySecret(s: RawSecret): boolean {
  return s.metadata.labels?.[API_KEY_LABEL] === 'true';
}

function translateKeys(secrets: RawSecret[], statuses: ResourceStatus[]): ApiKeyConfig[] {
  const keys: ApiKeyConfig[] = [];
  const byHash = new Map<string, string>();
  const seen = new Set<string>();
  for (const s of [...secrets].filter(isKeySecret).sort(byAge)) {
    const id = idOf(s.metadata);
    if (seen.has(id)) continue;
    seen.add(id);
    const status = newStatus('Secret', s.metadata);
    statuses.push(status);
    const v = secretValue(s, 'key');
    if (!v.ok) {
      accept(
        status,
        false,
        REASONS.missingKey,
        v.reason === 'InvalidSecretData'
          ? `API key Secret ${id}: data.key is not valid base64; put the key base64-encoded in data.key or as plain text in stringData.key`
          : `API key Secret ${id} has no key: put it in data.key (base64) or stringData.key; until then it is not served`,
      );
      continue;
    }
    const hash = `sha256:${createHash('sha256').update(v.value).digest('hex')}`;
    const holder = byHash.get(hash);
    if (holder !== undefined) {
      accept(
        status,
        false,
        REASONS.duplicateKey,
        `API key Secret ${id} holds the same key as the older Secret ${holder}; each key must be unique, so this one is ignored`,
      );
      continue;
    }
    byHash.set(hash, id);
    const labels = { ...(s.metadata.labels ?? {}) };
    keys.push({ id, namespace: s.metadata.namespace, hash, labels });
    accept(status, true, REASONS.accepted, 'API key is served (only its hash reaches the data plane)');
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------------
// Providers

interface ProviderProblem {
  reason: string;
  /** 'rejected' (Accepted=False) or 'unresolved' (ResolvedRefs=False). */
  state: 'rejected' | 'unresolved';
}

function translateProviders(
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

    const parsed = LLMProviderSpec.safeParse(r.spec);
    if (!parsed.success) {
      reject(REASONS.invalid, `LLMProvider ${id} is invalid: ${formatZodError(parsed.error, 'spec')}`);
      continue;
    }
    const spec = parsed.data;
    if (!SUPPORTED_PROVIDER_TYPES.includes(spec.type)) {
      reject(
        REASONS.unsupportedType,
        `provider type "${spec.type}" is not implemented yet in this version of Tollgate (the data plane has no adapter for it); use one of ${SUPPORTED_PROVIDER_TYPES.join(', ')}`,
      );
      continue;
    }
    const vertexProblem = spec.type === 'vertex-ai' ? checkVertex(spec.vertex) : undefined;
    if (vertexProblem !== undefined) {
      reject(REASONS.invalid, vertexProblem);
      continue;
    }
    const bedrockProblem = spec.type === 'bedrock' ? checkBedrock(spec.bedrock) : undefined;
    if (bedrockProblem !== undefined) {
      reject(REASONS.invalid, bedrockProblem);
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
      const fallback =
        spec.type === 'vertex-ai'
          ? vertexHost(spec.vertex!.location)
          : spec.type === 'bedrock'
            ? `https://bedrock-runtime.${spec.bedrock!.region}.amazonaws.com`
            : DEFAULT_ENDPOINTS[spec.type];
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
    // Vertex: endpoint is the API host; the project and location are part of every path.
    if (spec.type === 'vertex-ai')
      baseUrl = `${baseUrl}/v1/projects/${spec.vertex!.project}/locations/${spec.vertex!.location}`;
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
      const keyProblem =
        spec.type === 'vertex-ai' && isServiceAccountJson(credential) ? parseServiceAccount(credential) : undefined;
      if (keyProblem !== undefined && !keyProblem.ok) {
        resolve(
          status,
          false,
          REASONS.invalidSecretData,
          `spec.auth.secretRef: Secret ${secretId} key "${ref.key}" holds JSON that is not a usable Google service-account key: it ${keyProblem.problem}; the provider is not served until then`,
        );
        providerProblems.set(id, { reason: REASONS.invalidSecretData, state: 'unresolved' });
        continue;
      }
      const awsProblem =
        spec.type === 'bedrock' && isAwsKeysJson(credential) ? parseBedrockCredential(credential) : undefined;
      if (awsProblem !== undefined && !awsProblem.ok) {
        resolve(
          status,
          false,
          REASONS.invalidSecretData,
          `spec.auth.secretRef: Secret ${secretId} key "${ref.key}" holds JSON that is not usable AWS keys ({"accessKeyId", "secretAccessKey", "sessionToken"?}): it ${awsProblem.problem}; the provider is not served until then`,
        );
        providerProblems.set(id, { reason: REASONS.invalidSecretData, state: 'unresolved' });
        continue;
      }
    }
    resolve(status, true, REASONS.resolved, spec.auth ? 'credential Secret resolved' : 'no references to resolve');

    const config: ProviderConfig = {
      id,
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      type: spec.type,
      baseUrl,
      models: (spec.models ?? []).map((m) => ({
        name: m.name,
        ...(m.contextWindow !== undefined ? { contextWindow: m.contextWindow } : {}),
        ...(m.pricing !== undefined ? { pricing: { ...m.pricing } } : {}),
      })),
      connectTimeoutMs: parseDuration(spec.timeouts?.connect ?? DEFAULTS.connectTimeout),
      requestTimeoutMs: parseDuration(spec.timeouts?.request ?? DEFAULTS.requestTimeout),
    };
    if (credential !== undefined) config.credential = credential;
    if (spec.type === 'bedrock') config.region = spec.bedrock!.region;
    if (spec.type === 'azure-openai') config.apiVersion = spec.azure?.apiVersion ?? DEFAULTS.azureApiVersion;
    if (r.metadata.generation !== undefined) config.generation = r.metadata.generation;
    providers.set(id, config);
  }
  return { providers, providerProblems };
}

const VERTEX_PROJECT = /^[a-z0-9][a-z0-9.:-]*$/;
const VERTEX_LOCATION = /^[a-z0-9][a-z0-9-]*$/;

/** spec.vertex is required for vertex-ai; project and location become path segments, so their characters are checked. */
function checkVertex(vertex: { project: string; location: string } | undefined): string | undefined {
  if (vertex === undefined)
    return 'spec.vertex: a provider of type vertex-ai needs spec.vertex.project and spec.vertex.location';
  if (!VERTEX_PROJECT.test(vertex.project))
    return 'spec.vertex.project: must be a Google Cloud project id (lower-case letters, digits, -, and . or : for domain-scoped projects)';
  if (!VERTEX_LOCATION.test(vertex.location))
    return 'spec.vertex.location: must be a Google Cloud location such as us-central1, europe-west4 or global';
  return undefined;
}

const AWS_REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

/** spec.bedrock.region is required for bedrock: it names the endpoint host and the SigV4 scope. */
function checkBedrock(bedrock: { region: string } | undefined): string | undefined {
  if (bedrock === undefined)
    return 'spec.bedrock.region: a provider of type bedrock needs spec.bedrock.region (us-east-1, ...)';
  if (!AWS_REGION.test(bedrock.region))
    return `spec.bedrock.region: must be an AWS region such as us-east-1 or eu-central-1, got "${bedrock.region}"`;
  return undefined;
}

/** `https://{location}-aiplatform.googleapis.com`; the global location has no prefix. */
function vertexHost(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

// ---------------------------------------------------------------------------------------------------------
// Routes

function parsePattern(p: string): { name: string; prefix: boolean } {
  return p.endsWith('*') ? { name: p.slice(0, -1), prefix: true } : { name: p, prefix: false };
}

function translateRoutes(
  raw: RawResource[],
  providers: Map<string, ProviderConfig>,
  providerProblems: Map<string, ProviderProblem>,
  statuses: ResourceStatus[],
): RouteConfig[] {
  const routes: RouteConfig[] = [];
  /** `namespace \0 pattern \0 header-set` → id of the route that claimed it first (oldest). */
  const claims = new Map<string, string>();
  for (const r of [...raw].sort(byAge)) {
    const id = idOf(r.metadata);
    const ns = r.metadata.namespace;
    const status = newStatus('LLMRoute', r.metadata);
    statuses.push(status);

    const parsed = LLMRouteSpec.safeParse(r.spec);
    if (!parsed.success) {
      accept(status, false, REASONS.invalid, `LLMRoute ${id} is invalid: ${formatZodError(parsed.error, 'spec')}`);
      continue;
    }
    const spec = parsed.data;
    const base = parseDuration(spec.retry?.backoff?.base ?? DEFAULTS.backoffBase);
    const max = parseDuration(spec.retry?.backoff?.max ?? DEFAULTS.backoffMax);
    if (base > max) {
      accept(
        status,
        false,
        REASONS.invalid,
        `spec.retry.backoff: base (${spec.retry?.backoff?.base ?? DEFAULTS.backoffBase}) must not exceed max (${spec.retry?.backoff?.max ?? DEFAULTS.backoffMax})`,
      );
      continue;
    }

    const headers = dedupeHeaders(
      (spec.match?.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value })),
    );
    const headerKey = headers.map((h) => `${h.name}=${h.value}`).join('\u0001');
    const patterns = [...new Set(spec.models)];
    const conflicts: string[] = [];
    for (const p of patterns) {
      const holder = claims.get(`${ns}\u0000${p}\u0000${headerKey}`);
      if (holder !== undefined && holder !== id)
        conflicts.push(`"${p}" is already claimed by the older LLMRoute ${holder}`);
    }
    if (conflicts.length > 0) {
      accept(
        status,
        false,
        REASONS.modelConflict,
        `model ${conflicts.join(', ')} with the same header match; rename the model, add a distinguishing spec.match.headers entry, or remove one route`,
      );
      continue;
    }
    for (const p of patterns) claims.set(`${ns}\u0000${p}\u0000${headerKey}`, id);
    accept(status, true, REASONS.accepted, 'spec is valid');

    const backends: RouteConfig['backends'] = [];
    const missing: string[] = [];
    let anyNotFound = false;
    for (const [i, b] of spec.backends.entries()) {
      const providerId = `${ns}/${b.provider}`;
      if (providers.has(providerId)) {
        backends.push({
          provider: providerId,
          ...(b.model !== undefined ? { model: b.model } : {}),
          weight: b.weight,
          priority: b.priority,
        });
        continue;
      }
      const problem = providerProblems.get(providerId);
      if (problem === undefined) {
        anyNotFound = true;
        missing.push(`spec.backends[${i}]: LLMProvider ${providerId} not found`);
      } else if (problem.state === 'rejected') {
        missing.push(`spec.backends[${i}]: LLMProvider ${providerId} is not accepted (${problem.reason})`);
      } else {
        missing.push(`spec.backends[${i}]: LLMProvider ${providerId} has unresolved references (${problem.reason})`);
      }
    }
    if (missing.length > 0) {
      const tail =
        backends.length === 0
          ? 'no backend is usable, so requests for this route get 503 until one resolves'
          : 'those backends are left out; the others are served';
      resolve(
        status,
        false,
        anyNotFound ? REASONS.backendNotFound : 'BackendNotReady',
        `${missing.join('; ')}; ${tail}`,
      );
    } else {
      resolve(status, true, REASONS.resolved, 'all backends resolved');
    }

    const route: RouteConfig = {
      id,
      namespace: ns,
      name: r.metadata.name,
      models: patterns.map(parsePattern),
      headers,
      backends,
      retry: {
        attempts: spec.retry?.attempts ?? DEFAULTS.retryAttempts,
        backoffBaseMs: base,
        backoffMaxMs: max,
        on: [...(spec.retry?.retryOn ?? DEFAULTS.retryOn)],
      },
      timeoutMs: parseDuration(spec.timeout ?? DEFAULTS.routeTimeout),
    };
    if (r.metadata.creationTimestamp !== undefined) route.createdAt = r.metadata.creationTimestamp;
    if (r.metadata.generation !== undefined) route.generation = r.metadata.generation;
    routes.push(route);
  }
  return routes;
}

function dedupeHeaders(headers: Array<{ name: string; value: string }>): Array<{ name: string; value: string }> {
  const seen = new Map<string, { name: string; value: string }>();
  for (const h of headers) seen.set(`${h.name}=${h.value}`, h);
  return [...seen.values()].sort((a, b) => cmp(a.name, b.name) || cmp(a.value, b.value));
}

// ---------------------------------------------------------------------------------------------------------
// Quota policies

function selectorIsEmpty(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** Kubernetes label-selector semantics: all matchLabels and all expressions must hold; empty selects all. */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

function selectorProblem(sel: LabelSelector): string | undefined {
  for (const [i, e] of (sel.matchExpressions ?? []).entries()) {
    const n = e.values?.length ?? 0;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0)
      return `spec.selector.matchExpressions[${i}].values: operator ${e.operator} needs at least one value`;
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0)
      return `spec.selector.matchExpressions[${i}].values: operator ${e.operator} takes no values`;
  }
  return undefined;
}

function translateQuotaPolicies(
  raw: RawResource[],
  apiKeys: ApiKeyConfig[],
  statuses: ResourceStatus[],
): QuotaPolicyConfig[] {
  const out: QuotaPolicyConfig[] = [];
  for (const r of raw) {
    const id = idOf(r.metadata);
    const ns = r.metadata.namespace;
    const status = newStatus('QuotaPolicy', r.metadata);
    statuses.push(status);
    const parsed = QuotaPolicySpec.safeParse(r.spec);
    if (!parsed.success) {
      accept(status, false, REASONS.invalid, `QuotaPolicy ${id} is invalid: ${formatZodError(parsed.error, 'spec')}`);
      continue;
    }
    const spec = parsed.data;
    const badModel = (spec.models ?? []).findIndex((m) => m.indexOf('*') !== -1 && m.indexOf('*') !== m.length - 1);
    const problem =
      badModel >= 0
        ? `spec.models[${badModel}]: a * may only stand at the end (prefix match)`
        : selectorProblem(spec.selector);
    if (problem !== undefined) {
      accept(status, false, REASONS.invalid, `QuotaPolicy ${id} is invalid: ${problem}`);
      continue;
    }
    accept(status, true, REASONS.accepted, 'spec is valid');

    const keys = apiKeys
      .filter((k) => k.namespace === ns && selectorMatches(spec.selector, k.labels))
      .map((k) => k.id)
      .sort();
    const matchesAnonymous = selectorIsEmpty(spec.selector);
    if (keys.length === 0 && !matchesAnonymous) {
      resolve(
        status,
        false,
        REASONS.noMatchingKeys,
        `spec.selector matches no API key Secret (label ${API_KEY_LABEL}: "true") in namespace ${ns}; the policy governs nothing until one matches`,
      );
    } else {
      resolve(
        status,
        true,
        REASONS.resolved,
        matchesAnonymous
          ? `empty selector: governs all ${keys.length} API key(s) in namespace ${ns} and anonymous requests`
          : `selector matches ${keys.length} API key(s)`,
      );
    }

    const limits = spec.limits.map((l) => {
      const [kind, amount] =
        l.requests !== undefined
          ? (['requests', l.requests] as const)
          : l.tokens !== undefined
            ? (['tokens', l.tokens] as const)
            : (['costUSD', l.costUSD!] as const);
      const window: QuotaWindow =
        l.per === 'month' ? { type: 'calendarMonth' } : { type: 'sliding', ms: parseDuration(l.per) };
      return { kind, amount, window };
    });
    const policy: QuotaPolicyConfig = {
      id,
      namespace: ns,
      name: r.metadata.name,
      models: [...new Set(spec.models ?? [])].map(parsePattern),
      scope: spec.scope,
      limits,
      failureMode: spec.failureMode,
      keys,
      matchesAnonymous,
    };
    if (r.metadata.generation !== undefined) policy.generation = r.metadata.generation;
    out.push(policy);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// helpers

function idOf(meta: Pick<ObjectMeta, 'namespace' | 'name'>): string {
  return `${meta.namespace}/${meta.name}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byId(a: { id: string }, b: { id: string }): number {
  return cmp(a.id, b.id);
}

/** Older first: creationTimestamp (RFC 3339 compares as text; missing counts as oldest), then namespace/name. */
function byAge(a: { metadata: ObjectMeta }, b: { metadata: ObjectMeta }): number {
  return (
    cmp(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    cmp(idOf(a.metadata), idOf(b.metadata))
  );
}

/** The first resource with a given namespace/name wins (the API server cannot hold two; files can). */
function dedupe(resources: RawResource[]): RawResource[] {
  const seen = new Set<string>();
  return resources.filter((r) => {
    const id = idOf(r.metadata);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function newStatus(kind: ResourceStatus['kind'], meta: ObjectMeta): ResourceStatus {
  const s: ResourceStatus = { kind, namespace: meta.namespace, name: meta.name, conditions: [] };
  if (meta.generation !== undefined) s.generation = meta.generation;
  return s;
}

function accept(status: ResourceStatus, ok: boolean, reason: string, message: string): void {
  status.conditions.push({ type: 'Accepted', status: ok ? 'True' : 'False', reason, message });
}

function resolve(status: ResourceStatus, ok: boolean, reason: string, message: string): void {
  status.conditions.push({ type: 'ResolvedRefs', status: ok ? 'True' : 'False', reason, message });
}

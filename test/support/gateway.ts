/**
 * Test helpers: build GatewayConfig pieces tersely and start a gateway in-process on 127.0.0.1:0.
 */
import { createHash } from 'node:crypto';
import {
  type ApiKeyConfig,
  type GatewayConfig,
  GatewayConfigSchema,
  type ProviderConfig,
  type RetryCondition,
  type RouteConfig,
} from '../../contract/gateway-config.js';
import { createAdminServer } from '../../dataplane/src/server/admin.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../dataplane/src/server/gateway.js';

export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export interface ProviderSpec {
  name: string;
  /** Base URL (use FakeUpstream.openaiBaseUrl / anthropicBaseUrl). */
  baseUrl: string;
  type?: ProviderConfig['type'];
  namespace?: string;
  credential?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export function provider(p: ProviderSpec): ProviderConfig {
  const ns = p.namespace ?? 'ai';
  return {
    id: `${ns}/${p.name}`,
    namespace: ns,
    name: p.name,
    type: p.type ?? 'openai',
    baseUrl: p.baseUrl,
    credential: p.credential ?? 'sk-upstream-test',
    models: [],
    connectTimeoutMs: p.connectTimeoutMs ?? 2000,
    requestTimeoutMs: p.requestTimeoutMs ?? 10_000,
  } as ProviderConfig; // a type's own fields (bedrock region, azure apiVersion) are the caller's to add
}

export interface RouteSpec {
  name: string;
  namespace?: string;
  /** As in the LLMRoute: a trailing * marks a prefix. */
  models: string[];
  headers?: Array<{ name: string; value: string }>;
  backends: Array<{ provider: string; model?: string; weight?: number; priority?: number }>;
  attempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  on?: RetryCondition[];
  timeoutMs?: number;
  createdAt?: string;
}

export function route(r: RouteSpec): RouteConfig {
  const ns = r.namespace ?? 'ai';
  return {
    id: `${ns}/${r.name}`,
    namespace: ns,
    name: r.name,
    models: r.models.map((m) =>
      m.endsWith('*') ? { name: m.slice(0, -1), prefix: true } : { name: m, prefix: false },
    ),
    headers: (r.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value })),
    backends: r.backends.map((b) => ({
      provider: b.provider.includes('/') ? b.provider : `${ns}/${b.provider}`,
      model: b.model,
      weight: b.weight ?? 1,
      priority: b.priority ?? 0,
    })),
    retry: {
      attempts: r.attempts ?? 3,
      backoffBaseMs: r.backoffBaseMs ?? 1,
      backoffMaxMs: r.backoffMaxMs ?? 5,
      on: r.on ?? ['429', '5xx', 'timeout', 'connect-failure'],
    },
    timeoutMs: r.timeoutMs ?? 20_000,
    createdAt: r.createdAt,
  };
}

export function apiKey(id: string, key: string, labels: Record<string, string> = {}): ApiKeyConfig {
  const [namespace] = id.split('/');
  return { id, namespace: namespace!, hash: hashKey(key), labels };
}

export function gatewayConfig(parts: {
  providers: ProviderConfig[];
  routes: RouteConfig[];
  apiKeys?: ApiKeyConfig[];
  requireKeys?: boolean;
  version?: number;
}): GatewayConfig {
  // Validated like every snapshot the data plane gets.
  return GatewayConfigSchema.parse({
    version: parts.version ?? 1,
    hash: 'test',
    providers: parts.providers,
    routes: parts.routes,
    quotaPolicies: [],
    apiKeys: parts.apiKeys ?? [],
    requireKeys: parts.requireKeys ?? false,
  });
}

export interface TestGateway {
  gateway: Gateway;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** For the OpenAI SDK: `<url>/v1`. */
  openaiBaseURL: string;
  /** `http://127.0.0.1:<admin port>/metrics` (the admin server, started when the hooks serve metrics). */
  metricsUrl: string;
  close(): Promise<void>;
}

export async function startGateway(
  config: GatewayConfig | undefined,
  options: GatewayOptions = {},
): Promise<TestGateway> {
  const gateway = createGateway({ closeGraceMs: 500, ...options });
  if (config !== undefined) gateway.applyConfig(config);
  const port = await gateway.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  // /metrics is on the admin port only, as `tollgate run` and `tollgate dataplane` serve it.
  const hooks = options.hooks;
  const admin =
    hooks?.metricsText !== undefined ? createAdminServer({ metricsText: () => hooks.metricsText!() }) : undefined;
  const adminPort = admin === undefined ? 0 : await admin.listen(0, '127.0.0.1');
  return {
    gateway,
    port,
    url,
    openaiBaseURL: `${url}/v1`,
    metricsUrl: admin === undefined ? '' : `http://127.0.0.1:${adminPort}/metrics`,
    close: async () => {
      await gateway.close();
      await admin?.close();
    },
  };
}

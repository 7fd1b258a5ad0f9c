/**
 * `tollgate dataplane`: a proxy pod that takes its config from the operator's config channel. It can
 * boot from the snapshot the operator persisted (a mounted Secret) so it serves even while the operator
 * is down, keeps its last good config when the operator goes away, and is ready (/readyz) only once it
 * has a config.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { type GatewayConfig, GatewayConfigSchema } from '../../../contract/gateway-config.js';
import { parseRedisUrl, redactUrl } from '../../../contract/redis-url.js';
import { isDuration, parseDuration } from '../config/duration.js';
import { OperatorSource } from '../config/operator-source.js';
import { createLogger, type Logger } from '../log.js';
import { createAdminServer } from '../server/admin.js';
import { createGateway, type Gateway } from '../server/gateway.js';
import type { ContentLogOptions } from '../telemetry/content-log.js';
import { parseLogContent } from './log-content.js';
import { parseServerFlags, SERVER_FLAG_OPTIONS, type ServerFlags, serverFlagsUsage } from './server-flags.js';

export const usage = `tollgate dataplane [flags]

A data-plane pod: serves the gateway's HTTP surface with the config the operator pushes.

Flags:
  --operator-url <url>      the operator's config channel, e.g. https://tollgate-operator.tollgate.svc:9443
                            (required)
  --ca-file <path>          PEM of the CA the operator's certificate chains to (required)
  --token-file <path>       ServiceAccount token sent to the operator, re-read at every connect
                            (default /var/run/secrets/kubernetes.io/serviceaccount/token)
  --boot-snapshot <path>    config snapshot to serve until the operator answers (the operator persists it
                            in its snapshot Secret; mount it here). Missing file: start without one.
  --port <n>                port of the gateway (default 8080)
  --host <addr>             address to bind (default 0.0.0.0)
  --pod-name <name>         name reported to the operator (default $POD_NAME, else the hostname)
  --redis <url>             Redis for quotas shared across replicas, redis:// or rediss:// (default:
                            TOLLGATE_REDIS_URL, which keeps a password out of the pod spec; else in-process
                            counters)
  --body-timeout <d>        how long a client may take to send its request body: 408 after it
                            (default 30s; streamed responses are not limited by it)
  --log-content             also write each request's prompt and the completion the client got into its
                            access-log line on stdout (off by default; or TOLLGATE_LOG_CONTENT=true).
                            They may hold personal or confidential data: mind who can read the logs
  --log-content-max-bytes <s>
                            cap of each logged prompt and completion, bytes or with Ki, Mi (default
                            16384; or TOLLGATE_LOG_CONTENT_MAX_BYTES); cut ones are marked *_truncated
${serverFlagsUsage(2, 28)}
  -h, --help                this text
`;

export interface DataplaneOptions {
  operatorUrl: string;
  ca: string;
  tokenFile: string;
  bootSnapshot?: string;
  port: number;
  host?: string;
  podName: string;
  redis?: string;
  /** Body-read timeout (ms); default 30 s. */
  bodyTimeoutMs?: number;
  /** Prompts and completions in the access log; absent: never. */
  logContent?: ContentLogOptions;
  /**
   * Timeouts, shutdown grace, upstream connection cap, admin port (the CLI's flags); absent: the defaults,
   * and the admin server on a free port (embedders and tests start several in one process).
   */
  server?: ServerFlags;
  logger: Logger;
}

export interface DataplaneHandle {
  gateway: Gateway;
  source: OperatorSource;
  port: number;
  /** Port of the admin server (/metrics). */
  adminPort: number;
  stop(): Promise<void>;
}

/** Reads a persisted snapshot; undefined when the file is missing, an error when it is invalid. */
export function readBootSnapshot(path: string): GatewayConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, and the snapshot holds provider credentials: say nothing of it.
    throw new Error(`boot snapshot ${path} is not valid JSON`);
  }
  const parsed = GatewayConfigSchema.safeParse(json);
  if (!parsed.success) throw new Error(`boot snapshot ${path} is not a valid GatewayConfig`);
  return parsed.data;
}

export async function startDataplane(o: DataplaneOptions): Promise<DataplaneHandle> {
  const { createAccounting } = await import('../accounting/hooks.js');
  const accounting = await createAccounting({ redisUrl: o.redis, logger: o.logger, logContent: o.logContent });
  // The response cache (routes with spec.cache): on the same Redis, else in-process (ADR 0070).
  // mode semantic embeds prompts through this gateway's own listener, known once it listens.
  const { loopbackOrigin, openResponseCache } = await import('../cache/create.js');
  let origin: string | undefined;
  const cache = openResponseCache({
    redisUrl: o.redis,
    onError: (op) => accounting.cacheError(op),
    logger: o.logger,
    origin: () => origin,
  });
  const srv = o.server;
  const gateway = createGateway({
    cache,
    logger: o.logger,
    hooks: accounting,
    bodyTimeoutMs: o.bodyTimeoutMs,
    headerTimeoutMs: srv?.headerTimeoutMs,
    idleTimeoutMs: srv?.idleTimeoutMs,
    closeGraceMs: srv?.shutdownGraceMs,
    upstreamConnections: srv?.upstreamConnections,
  });
  const admin = createAdminServer({ metricsText: () => accounting.metricsText() });
  gateway.server.once('close', () => void accounting.close().catch(() => {}));
  gateway.server.once('close', () => void cache.close().catch(() => {}));
  if (o.bootSnapshot) {
    try {
      const boot = readBootSnapshot(o.bootSnapshot);
      if (boot) {
        gateway.applyConfig(boot);
        o.logger.info('serving the boot snapshot until the operator answers', { version: boot.version });
      }
    } catch (error) {
      o.logger.warn('ignoring the boot snapshot', { err: error as Error });
    }
  }
  const source = new OperatorSource({
    url: o.operatorUrl,
    ca: o.ca,
    token: () => readFileSync(o.tokenFile, 'utf8'),
    podName: o.podName,
    logger: o.logger.child({ component: 'config-client' }),
    apply: (config) => {
      // An operator restart may resend an older version number with the same content: compare hashes.
      if (gateway.config?.hash === config.hash && gateway.config.version === config.version) return;
      gateway.applyConfig(config);
    },
  });
  const port = await gateway.listen(o.port, o.host);
  origin = loopbackOrigin(o.host, port);
  let adminPort: number;
  try {
    adminPort = await admin.listen(srv?.adminPort ?? 0, o.host);
  } catch (err) {
    await gateway.close();
    await accounting.close();
    throw err;
  }
  source.start();
  return {
    gateway,
    source,
    port,
    adminPort,
    stop: async () => {
      source.stop();
      await gateway.close();
      // Settlements and spans of the requests that just finished leave before the process does.
      await accounting.close();
      await admin.close();
    },
  };
}

export interface DataplaneFlags {
  readonly operatorUrl: string;
  readonly caFile: string;
  readonly tokenFile: string;
  readonly bootSnapshot: string | undefined;
  readonly port: number;
  readonly host: string;
  readonly podName: string;
  readonly redis: string | undefined;
  readonly bodyTimeoutMs: number;
  readonly logContent: ContentLogOptions | undefined;
  readonly server: ServerFlags;
}

export type ParsedDataplaneFlags =
  | { kind: 'help' }
  | { kind: 'error'; message: string }
  | { kind: 'ok'; flags: DataplaneFlags };

/** Validates the command line and the env it reads once into a frozen object; reads no file. */
export function parseDataplaneFlags(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): ParsedDataplaneFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        'operator-url': { type: 'string' },
        'ca-file': { type: 'string' },
        'token-file': { type: 'string', default: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
        'boot-snapshot': { type: 'string' },
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '0.0.0.0' },
        'pod-name': { type: 'string' },
        redis: { type: 'string' },
        'body-timeout': { type: 'string', default: '30s' },
        'log-content': { type: 'boolean' },
        'log-content-max-bytes': { type: 'string' },
        ...SERVER_FLAG_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { kind: 'error', message: (error as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const fail = (message: string): ParsedDataplaneFlags => ({ kind: 'error', message });
  const operatorUrl = values['operator-url'];
  const caFile = values['ca-file'];
  if (typeof operatorUrl !== 'string' || !/^https:\/\//.test(operatorUrl))
    return fail('--operator-url https://... is required');
  if (typeof caFile !== 'string') return fail('--ca-file is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port: not a port: ${String(values.port)}`);
  const timeoutText = String(values['body-timeout']);
  const bodyTimeoutMs = isDuration(timeoutText) ? parseDuration(timeoutText) : 0;
  if (!(bodyTimeoutMs > 0)) return fail(`--body-timeout: not a positive duration (like 30s): ${timeoutText}`);
  const redis = parseRedisUrl(typeof values.redis === 'string' ? values.redis : undefined, env);
  if (!redis.ok) return fail(redis.message);
  const maxText = values['log-content-max-bytes'];
  const logContent = parseLogContent(
    values['log-content'] === true,
    typeof maxText === 'string' ? maxText : undefined,
    env,
  );
  if (!logContent.ok) return fail(logContent.message);
  const server = parseServerFlags(values);
  if (!server.ok) return fail(server.message);
  return {
    kind: 'ok',
    flags: Object.freeze({
      operatorUrl,
      caFile,
      tokenFile: String(values['token-file']),
      bootSnapshot: typeof values['boot-snapshot'] === 'string' ? values['boot-snapshot'] : undefined,
      port,
      host: String(values.host),
      podName: (values['pod-name'] as string | undefined) || env.POD_NAME || hostname(),
      redis: redis.value,
      bodyTimeoutMs,
      logContent: logContent.value,
      server: server.value,
    }),
  };
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseDataplaneFlags(args);
  if (parsed.kind === 'help') {
    console.log(usage);
    return 0;
  }
  const fail = (msg: string) => {
    console.error(`tollgate dataplane: ${msg}\n\n${usage}`);
    return 2;
  };
  if (parsed.kind === 'error') return fail(parsed.message);
  const flags = parsed.flags;
  let ca: string;
  try {
    ca = readFileSync(flags.caFile, 'utf8');
  } catch (error) {
    return fail(`--ca-file: ${(error as Error).message}`);
  }
  const logger = createLogger({ fields: { component: 'dataplane' } });
  const handle = await startDataplane({
    operatorUrl: flags.operatorUrl,
    ca,
    tokenFile: flags.tokenFile,
    ...(flags.bootSnapshot !== undefined ? { bootSnapshot: flags.bootSnapshot } : {}),
    port: flags.port,
    host: flags.host,
    podName: flags.podName,
    ...(flags.redis !== undefined ? { redis: flags.redis } : {}),
    bodyTimeoutMs: flags.bodyTimeoutMs,
    ...(flags.logContent ? { logContent: flags.logContent } : {}),
    server: flags.server,
    logger,
  });
  logger.info('data plane listening', {
    port: handle.port,
    adminPort: handle.adminPort,
    ...(flags.redis !== undefined ? { redis: redactUrl(flags.redis) } : {}),
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info('shutting down');
  await handle.stop();
  return 0;
}

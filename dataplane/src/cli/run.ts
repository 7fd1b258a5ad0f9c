/**
 * `tollgate run -f <file|dir> [-f ...]`: the gateway with no Kubernetes. Reads LLMProvider, LLMRoute,
 * QuotaPolicy and v1 Secrets from YAML, serves them, reloads on change (keeping the last good config).
 */
import { parseArgs } from 'node:util';
import type { GatewayConfig } from '../../../contract/gateway-config.js';
import { parseRedisUrl, redactUrl } from '../../../contract/redis-url.js';
import { isDuration, parseDuration } from '../config/duration.js';
import { type AppliedConfig, FileSource } from '../config/file-source.js';
import { runReadiness } from '../config/reload-guard.js';
import { createLogger, type Logger } from '../log.js';
import type { ContentLogOptions } from '../telemetry/content-log.js';
import { parseLogContent } from './log-content.js';
import { parseServerFlags, SERVER_FLAG_OPTIONS, type ServerFlags, serverFlagsUsage } from './server-flags.js';
import { parseSize } from './size.js';

export const RUN_USAGE = `tollgate run -f <file-or-dir> [-f ...] [flags]

Serves the gateway from YAML files (LLMProvider, LLMRoute, QuotaPolicy, v1 Secret), no Kubernetes needed.
Reloads when the files change; an invalid change is logged and the last good config keeps being served.
With no API key Secrets defined the gateway is OPEN: requests need no key.

Flags:
  -f, --file <path>        YAML file or directory of .yaml/.yml files (repeatable, required)
  -R, --recursive          also read subdirectories of directories given with -f
      --port <n>           port to listen on (default 8080; 0 picks a free port)
      --host <addr>        address to listen on (default 0.0.0.0)
      --max-body-size <s>  largest request body: bytes, or with Ki, Mi, Gi suffix (default 32Mi)
      --body-timeout <d>   how long a client may take to send its request body: 408 after it (default 30s;
                           streamed responses are not limited by it)
      --redis <url>        Redis for quota counters and cache entries shared across replicas (redis://h:6379; or
                           TOLLGATE_REDIS_URL, which keeps a password out of the command line)
      --log-content        also write each request's prompt and the completion the client got into its
                           access-log line (off by default; or TOLLGATE_LOG_CONTENT=true). They may hold
                           personal or confidential data: mind who can read the logs
      --log-content-max-bytes <s>
                           cap of each logged prompt and completion, bytes or with Ki, Mi (default 16384;
                           or TOLLGATE_LOG_CONTENT_MAX_BYTES); cut ones are marked *_truncated
${serverFlagsUsage(6, 27)}
  -h, --help               show this help

Logs are JSON lines on stderr, the access log (one line per request) on stdout;
set TOLLGATE_LOG_LEVEL=debug|info|warn|error.`;

export interface RunFlags {
  readonly files: readonly string[];
  readonly recursive: boolean;
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly redisUrl: string | undefined;
  /** Prompts and completions in the access log; undefined: off. */
  readonly logContent: ContentLogOptions | undefined;
  /** Timeouts, shutdown grace, upstream connection cap, admin port. */
  readonly server: ServerFlags;
}

export type ParsedRunFlags = { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'ok'; flags: RunFlags };

/** Kept exported from here, where --max-body-size made it. */
export { parseSize };

/** Validates the command line (and the env it reads) once into a frozen object. */
export function parseRunFlags(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): ParsedRunFlags {
  let values: {
    file?: string[];
    recursive?: boolean;
    port?: string;
    host?: string;
    'max-body-size'?: string;
    'body-timeout'?: string;
    redis?: string;
    'log-content'?: boolean;
    'log-content-max-bytes'?: string;
    'header-timeout'?: string;
    'idle-timeout'?: string;
    'shutdown-grace'?: string;
    'upstream-connections'?: string;
    'admin-port'?: string;
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        file: { type: 'string', short: 'f', multiple: true },
        recursive: { type: 'boolean', short: 'R' },
        port: { type: 'string' },
        host: { type: 'string' },
        'max-body-size': { type: 'string' },
        'body-timeout': { type: 'string' },
        redis: { type: 'string' },
        'log-content': { type: 'boolean' },
        'log-content-max-bytes': { type: 'string' },
        ...SERVER_FLAG_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  if (positionals.length > 0) {
    return { kind: 'error', message: `unexpected argument "${positionals[0]}" (files are given with -f)` };
  }
  const files = values.file ?? [];
  if (files.length === 0) return { kind: 'error', message: 'at least one -f <file-or-dir> is required' };
  if (files.some((f) => f === '')) return { kind: 'error', message: '-f needs a path' };

  const portText = values.port ?? '8080';
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    return { kind: 'error', message: `--port must be a number from 0 to 65535, got "${portText}"` };
  }
  const host = values.host ?? '0.0.0.0';
  if (host === '') return { kind: 'error', message: '--host must not be empty' };
  const sizeText = values['max-body-size'] ?? '32Mi';
  const maxBodyBytes = parseSize(sizeText);
  if (maxBodyBytes === undefined) {
    return {
      kind: 'error',
      message: `--max-body-size must be a positive number of bytes, optionally with Ki, Mi or Gi (like 32Mi), got "${sizeText}"`,
    };
  }
  const timeoutText = values['body-timeout'] ?? '30s';
  const bodyTimeoutMs = isDuration(timeoutText) ? parseDuration(timeoutText) : 0;
  if (!(bodyTimeoutMs > 0)) {
    return {
      kind: 'error',
      message: `--body-timeout must be a positive duration like 30s, 500ms or 2m, got "${timeoutText}"`,
    };
  }
  const redis = parseRedisUrl(values.redis, env);
  if (!redis.ok) return { kind: 'error', message: redis.message };
  const redisUrl = redis.value;
  const logContent = parseLogContent(values['log-content'], values['log-content-max-bytes'], env);
  if (!logContent.ok) return { kind: 'error', message: logContent.message };
  const server = parseServerFlags(values);
  if (!server.ok) return { kind: 'error', message: server.message };
  return {
    kind: 'ok',
    flags: Object.freeze({
      files: Object.freeze([...files]),
      recursive: values.recursive ?? false,
      port,
      host,
      maxBodyBytes,
      bodyTimeoutMs,
      redisUrl,
      logContent: logContent.value,
      server: server.value,
    }),
  };
}

function counts(config: GatewayConfig) {
  return {
    routes: config.routes.length,
    providers: config.providers.length,
    apiKeys: config.apiKeys.length,
    quotaPolicies: config.quotaPolicies.length,
  };
}

const OPEN_WARNING =
  'no API keys are defined: the gateway is OPEN and serves requests without a key. Add a Secret labelled tollgate.dev/api-key: "true" with the key in stringData.key to require keys';

export async function main(args: string[]): Promise<number> {
  const parsed = parseRunFlags(args);
  if (parsed.kind === 'help') {
    process.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`tollgate run: ${parsed.message}\n\nRun 'tollgate run --help' for usage.\n`);
    return 2;
  }
  const flags = parsed.flags;
  const logger = createLogger({ fields: { component: 'run' } });
  return serve(flags, logger);
}

async function serve(flags: RunFlags, logger: Logger): Promise<number> {
  // Loaded here, not at the top: the flag parser above stays importable on its own.
  const { createGateway } = await import('../server/gateway.js');
  // Accounting (quotas, cost, metrics, traces, access log): Redis counters when --redis is given.
  const { createAccounting } = await import('../accounting/hooks.js');
  const { createAdminServer } = await import('../server/admin.js');
  const accounting = await createAccounting({ redisUrl: flags.redisUrl, logger, logContent: flags.logContent });
  // The response cache (routes with spec.cache): on the same Redis, else in-process (ADR 0070).
  // mode semantic embeds prompts through this gateway's own listener, known once it listens.
  const { loopbackOrigin, openResponseCache } = await import('../cache/create.js');
  let origin: string | undefined;
  const cache = openResponseCache({
    redisUrl: flags.redisUrl,
    onError: (op) => accounting.cacheError(op),
    logger: logger,
    origin: () => origin,
  });
  const gateway = createGateway({
    cache,
    maxBodyBytes: flags.maxBodyBytes,
    bodyTimeoutMs: flags.bodyTimeoutMs,
    headerTimeoutMs: flags.server.headerTimeoutMs,
    idleTimeoutMs: flags.server.idleTimeoutMs,
    closeGraceMs: flags.server.shutdownGraceMs,
    upstreamConnections: flags.server.upstreamConnections,
    logger,
    hooks: accounting,
    readiness: runReadiness,
  });
  const admin = createAdminServer({ metricsText: () => accounting.metricsText() });
  gateway.server.once('close', () => void accounting.close().catch(() => {}));
  gateway.server.once('close', () => void cache.close().catch(() => {}));
  let keyed: boolean | undefined;
  const onConfig = (applied: AppliedConfig) => {
    gateway.applyConfig(applied.config);
    const nowKeyed = applied.config.apiKeys.length > 0;
    if (keyed !== undefined && nowKeyed !== keyed) {
      if (nowKeyed) logger.info('API keys are now defined: every request needs a key');
      else logger.error(OPEN_WARNING);
    }
    keyed = nowKeyed;
  };
  const source = new FileSource({
    paths: flags.files,
    recursive: flags.recursive,
    requireKeys: false,
    logger,
    onConfig,
  });
  let first: AppliedConfig;
  try {
    first = await source.start();
  } catch (err) {
    logger.error('cannot load the config files', { err: err instanceof Error ? err.message : String(err) });
    await gateway.close().catch(() => {});
    return 1;
  }
  let port: number;
  let adminPort: number;
  try {
    port = await gateway.listen(flags.port, flags.host);
    origin = loopbackOrigin(flags.host, port);
  } catch (err) {
    logger.error('cannot listen', {
      host: flags.host,
      port: flags.port,
      err: err instanceof Error ? err.message : String(err),
    });
    source.close();
    await gateway.close().catch(() => {});
    return 1;
  }
  try {
    adminPort = await admin.listen(flags.server.adminPort, flags.host);
  } catch (err) {
    logger.error('cannot listen on the admin port', {
      host: flags.host,
      adminPort: flags.server.adminPort,
      err: err instanceof Error ? err.message : String(err),
    });
    source.close();
    await gateway.close().catch(() => {});
    return 1;
  }
  logger.info('tollgate run listening', {
    host: flags.host,
    port,
    adminPort,
    files: first.files,
    version: first.config.version,
    ...counts(first.config),
    maxBodyBytes: flags.maxBodyBytes,
    ...(flags.redisUrl ? { redis: redactUrl(flags.redisUrl) } : {}),
  });
  if (first.config.apiKeys.length === 0) logger.warn(OPEN_WARNING);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('second signal: exiting now', { signal });
        process.exit(130);
      }
      stopping = true;
      logger.info('shutting down', { signal });
      source.close();
      // In-flight requests finish first (up to --shutdown-grace); then their settlements and spans are sent
      // before the exit. /metrics is served until then.
      gateway
        .close()
        .then(() => accounting.close())
        .then(() => admin.close())
        .then(
          () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve(0);
          },
          (err: unknown) => {
            logger.error('error while shutting down', { err: err instanceof Error ? err.message : String(err) });
            resolve(1);
          },
        );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

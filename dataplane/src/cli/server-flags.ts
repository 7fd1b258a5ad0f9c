/**
 * Flags `tollgate run` and `tollgate dataplane` share for the servers: the API port's timeouts, the
 * shutdown grace, the upstream pool's connection cap and the admin port (docs/configuration.md, "Server
 * limits"). Parsed once at start into a frozen object.
 */
import { isDuration, parseDuration } from '../config/duration.js';
import { DEFAULT_UPSTREAM_CONNECTIONS } from '../proxy/upstream.js';
import { DEFAULT_ADMIN_PORT } from '../server/admin.js';
import { DEFAULT_HEADER_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_SHUTDOWN_GRACE_MS } from '../server/listener.js';

export interface ServerFlags {
  readonly headerTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly upstreamConnections: number;
  readonly adminPort: number;
}

/** parseArgs option specs of these flags (strings; validated by parseServerFlags). */
export const SERVER_FLAG_OPTIONS = {
  'header-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'shutdown-grace': { type: 'string' },
  'upstream-connections': { type: 'string' },
  'admin-port': { type: 'string' },
} as const;

const s = (ms: number) => `${ms / 1000}s`;

/** Help text lines, aligned with the commands' other flags (`indent` of the flags, `pad`: column of the texts). */
export function serverFlagsUsage(indent: number, pad: number): string {
  const lines: Array<[string, string]> = [
    [
      '--header-timeout <d>',
      `how long a client may take to send a request's headers (and a new connection its first request): 408 and the connection is closed after it (default ${s(DEFAULT_HEADER_TIMEOUT_MS)})`,
    ],
    [
      '--idle-timeout <d>',
      `how long a keep-alive connection may sit idle between requests (default ${s(DEFAULT_IDLE_TIMEOUT_MS)}); responses and streams are never cut by it`,
    ],
    [
      '--shutdown-grace <d>',
      `on SIGTERM, how long running requests and streams may go on; then streams end with an error event in the client's format (default ${s(DEFAULT_SHUTDOWN_GRACE_MS)})`,
    ],
    [
      '--upstream-connections <n>',
      `most connections to one provider origin; more requests wait for a free one (default ${DEFAULT_UPSTREAM_CONNECTIONS})`,
    ],
    [
      '--admin-port <n>',
      `port of the admin server: GET /metrics, Prometheus text (default ${DEFAULT_ADMIN_PORT}; 0 picks a free port). Not served on the API port`,
    ],
  ];
  const width = 106 - pad;
  return lines
    .map(([flag, text]) => {
      const words = text.split(' ');
      const out: string[] = [];
      let line = '';
      for (const w of words) {
        if (line !== '' && line.length + 1 + w.length > width) {
          out.push(line);
          line = w;
        } else line = line === '' ? w : `${line} ${w}`;
      }
      out.push(line);
      const head = `${' '.repeat(indent)}${flag}`;
      const first = head.length + 2 <= pad ? `${head.padEnd(pad)}${out[0]}` : `${head}\n${' '.repeat(pad)}${out[0]}`;
      return [first, ...out.slice(1).map((l) => `${' '.repeat(pad)}${l}`)].join('\n');
    })
    .join('\n');
}

type Values = Readonly<Partial<Record<keyof typeof SERVER_FLAG_OPTIONS, string | boolean | undefined>>>;

export function parseServerFlags(values: Values): { ok: true; value: ServerFlags } | { ok: false; message: string } {
  const duration = (name: keyof typeof SERVER_FLAG_OPTIONS, def: number): number | string => {
    const v = values[name];
    if (v === undefined) return def;
    const text = String(v);
    const ms = isDuration(text) ? parseDuration(text) : 0;
    return ms > 0 ? ms : `--${name} must be a positive duration like 10s, 500ms or 2m, got "${text}"`;
  };
  const integer = (name: keyof typeof SERVER_FLAG_OPTIONS, def: number, min: number, max: number): number | string => {
    const v = values[name];
    if (v === undefined) return def;
    const text = String(v);
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    return n >= min && n <= max ? n : `--${name} must be a whole number from ${min} to ${max}, got "${text}"`;
  };
  const headerTimeoutMs = duration('header-timeout', DEFAULT_HEADER_TIMEOUT_MS);
  const idleTimeoutMs = duration('idle-timeout', DEFAULT_IDLE_TIMEOUT_MS);
  const shutdownGraceMs = duration('shutdown-grace', DEFAULT_SHUTDOWN_GRACE_MS);
  const upstreamConnections = integer('upstream-connections', DEFAULT_UPSTREAM_CONNECTIONS, 1, 65_535);
  const adminPort = integer('admin-port', DEFAULT_ADMIN_PORT, 0, 65_535);
  for (const v of [headerTimeoutMs, idleTimeoutMs, shutdownGraceMs, upstreamConnections, adminPort])
    if (typeof v === 'string') return { ok: false, message: v };
  return {
    ok: true,
    value: Object.freeze({
      headerTimeoutMs: headerTimeoutMs as number,
      idleTimeoutMs: idleTimeoutMs as number,
      shutdownGraceMs: shutdownGraceMs as number,
      upstreamConnections: upstreamConnections as number,
      adminPort: adminPort as number,
    }),
  };
}

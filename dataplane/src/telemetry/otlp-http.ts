/**
 * The OTLP/HTTP transport for span batches, on undici (ADR 0035). opentelemetry-js still does the rest of
 * the export (its export delegate: queueing, timeout, response handling, its exporter self-metrics) and
 * reads the configuration (URL, OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, _COMPRESSION, _TIMEOUT); this
 * module sends, and retries as the OTLP spec and the opentelemetry-js transport do: 429, 502, 503, 504
 * and network errors, at most 5 retries, backoff from 1 s by x1.5 up to 5 s with ±20% jitter, or the
 * server's Retry-After, never past the export's timeout.
 *
 * Why not the opentelemetry-js node:http transport: under load the gateway then promoted 4-6x more to
 * V8's old space and ran 4-10 full GCs in 8 s, none with this one (ADR 0035). The one timer per attempt
 * is cleared when the attempt ends: a timer left armed for the export timeout (AbortSignal.timeout)
 * keeps what it holds alive that long, which by itself brought the promotions back.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { Pool } from 'undici';
import { parseRetryAfter } from '../routing/select.js';

const gzipAsync = promisify(gzip);

export interface OtlpHttpTarget {
  url: string;
  /** The environment's headers, as opentelemetry-js merges them; content type and user agent are added. */
  headers: () => Promise<Record<string, string>>;
  compression: 'gzip' | 'none';
  /** TLS: the trust roots, and the client certificate and key (PEM). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** Statuses the OTLP spec says to retry. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Connection-level failures worth another attempt (the opentelemetry-js transport's list, plus undici's). */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);
const RETRY = { maxRetries: 5, initialMs: 1000, maxMs: 5000, multiplier: 1.5, jitter: 0.2 };
/** Response bodies are read up to this size (a success carries at most a partial-success message). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

function errorCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

export class UndiciOtlpTransport implements IExporterTransport {
  private readonly pool: Pool;
  private readonly path: string;
  private closed = false;

  constructor(private readonly target: OtlpHttpTarget) {
    const u = new URL(target.url);
    this.path = `${u.pathname}${u.search}`;
    this.pool = new Pool(u.origin, {
      connections: 2,
      ...(u.protocol === 'https:' && target.tls ? { connect: { ...target.tls } } : {}),
    });
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    const gz = this.target.compression === 'gzip';
    const body = gz ? await gzipAsync(data) : data;
    const headers: Record<string, string> = {};
    // Lower-cased, so that ours replace the configuration's whatever their spelling.
    for (const [k, v] of Object.entries(await this.target.headers())) headers[k.toLowerCase()] = v;
    Object.assign(headers, {
      'content-type': 'application/json',
      'user-agent': 'tollgate (OTLP/HTTP)',
      ...(gz ? { 'content-encoding': 'gzip' } : {}),
    });
    let backoff = RETRY.initialMs;
    let result = await this.attempt(body, headers, timeoutMillis);
    for (let retries = 0; result.status === 'retryable' && retries < RETRY.maxRetries; retries++) {
      const jittered = backoff * (1 + (Math.random() * 2 - 1) * RETRY.jitter);
      backoff *= RETRY.multiplier;
      const wait = result.retryInMillis ?? Math.min(Math.max(jittered, 0), RETRY.maxMs);
      const left = deadline - Date.now();
      if (wait > left || this.closed) return result;
      await new Promise((r) => setTimeout(r, wait).unref());
      result = await this.attempt(body, headers, deadline - Date.now());
    }
    return result;
  }

  private async attempt(body: Uint8Array, headers: Record<string, string>, timeoutMs: number): Promise<ExportResponse> {
    const ms = Math.max(1, Math.floor(timeoutMs));
    // Not AbortSignal.timeout: its timer would stay armed (and its objects alive) for the whole timeout
    // after the export is done; this one is cleared when the attempt ends.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new DOMException('export attempt timed out', 'TimeoutError')), ms).unref();
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers,
        body,
        headersTimeout: ms,
        bodyTimeout: ms,
        signal: ac.signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of res.body) {
        size += (c as Buffer).length;
        if (size > MAX_RESPONSE_BYTES) {
          res.body.destroy();
          return {
            status: 'failure',
            error: new Error(`OTLP export response body exceeded ${MAX_RESPONSE_BYTES} bytes`),
          };
        }
        chunks.push(c as Buffer);
      }
      const data = Buffer.concat(chunks);
      if (res.statusCode >= 200 && res.statusCode <= 299) return { status: 'success', data };
      if (RETRYABLE_STATUS.has(res.statusCode)) {
        const after = parseRetryAfter(res.headers['retry-after'], Date.now());
        return after === undefined ? { status: 'retryable' } : { status: 'retryable', retryInMillis: after };
      }
      return {
        status: 'failure',
        error: new OTLPExporterError(`HTTP ${res.statusCode}`, res.statusCode, data.toString('utf8').slice(0, 1000)),
      };
    } catch (err) {
      // Duck-typed, not instanceof: errors may come from another realm (DOMException, Node internals).
      const e = (typeof (err as Error | null)?.message === 'string' ? err : new Error(String(err))) as Error;
      const code = errorCode(err);
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      if (timedOut || (code !== undefined && RETRYABLE_CODES.has(code))) return { status: 'retryable', error: e };
      return { status: 'failure', error: e };
    } finally {
      clearTimeout(timer);
    }
  }

  shutdown(): void {
    this.closed = true;
    void this.pool.close().catch(() => {});
  }
}

/**
 * OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE / _CLIENT_CERTIFICATE / _CLIENT_KEY, else the OTEL_EXPORTER_OTLP_*
 * ones: PEM files, read once. A file that cannot be read is reported and left out (the SDK does the same).
 */
export function tlsFromEnv(
  env: NodeJS.ProcessEnv,
  warn: (msg: string) => void,
): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const read = (name: string): Buffer | undefined => {
    const file = env[`OTEL_EXPORTER_OTLP_TRACES_${name}`] || env[`OTEL_EXPORTER_OTLP_${name}`];
    if (!file) return undefined;
    try {
      return readFileSync(resolve(process.cwd(), file));
    } catch (err) {
      warn(`OTLP traces: cannot read ${name.toLowerCase().replace('_', ' ')} file ${file}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  const ca = read('CERTIFICATE');
  const cert = read('CLIENT_CERTIFICATE');
  const key = read('CLIENT_KEY');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return tls;
}

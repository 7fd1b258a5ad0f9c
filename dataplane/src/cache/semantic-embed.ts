/**
 * The semantic cache's prompt embedding, through a route of the request's namespace (ADR 0076): a
 * `POST /v1/embeddings` for `semantic.embeddingModel` sent to the gateway's own listener on loopback with
 * the client's headers (its key included). It is therefore an ordinary request: authenticated, routed
 * (header matches too), admitted against the key's quotas, tried and failed over, metered, logged and
 * counted under the embedding route, exactly as if the client had sent it.
 *
 * Any failure (no origin yet, refused, upstream error, timeout, a body without a vector) is `undefined`:
 * the request then simply goes upstream uncached. The vector comes back at unit length.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import type { Logger } from '../log.js';
import { normalise } from './semantic-prompt.js';

/** Client headers not forwarded: hop-by-hop ones and those describing the client's own body. */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'accept-encoding',
  'expect',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
]);

export interface EmbedderOptions {
  /** The gateway's own listener (`http://127.0.0.1:<port>`), once it listens; undefined before. */
  readonly origin: () => string | undefined;
  /** Time the embedding may take before the request goes upstream uncached. Default 5 s. */
  readonly timeoutMs?: number;
  readonly logger: Logger;
}

/** The client headers the embedding request carries (its key, traceparent, route-match headers). */
export function forwardedHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = { 'content-type': 'application/json' };
  for (const name in h) {
    if (NOT_FORWARDED.has(name)) continue;
    const v = h[name];
    if (typeof v === 'string') out[name] = v;
    else if (Array.isArray(v)) out[name] = v.join(', ');
  }
  return out;
}

/** The vector of an OpenAI embeddings answer's first item, or undefined when the body has none. */
export function vectorOf(body: unknown): Float32Array | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const data = (body as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length === 0) return undefined;
  const emb = (data[0] as { embedding?: unknown } | null)?.embedding;
  if (!Array.isArray(emb) || emb.length === 0) return undefined;
  const v = new Float32Array(emb.length);
  for (let i = 0; i < emb.length; i++) {
    const n = emb[i];
    if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
    v[i] = n;
  }
  return normalise(v);
}

export class PromptEmbedder {
  /** Embeddings that failed (refused, upstream error, timeout, no vector); tests and metrics read it. */
  failures = 0;
  private pool: Pool | undefined;
  private poolOrigin: string | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly o: EmbedderOptions) {
    this.timeoutMs = o.timeoutMs ?? 5000;
  }

  /** The unit vector of `text` by `embeddingModel`, asked as the client whose headers these are; never rejects. */
  async embed(headers: IncomingHttpHeaders, embeddingModel: string, text: string): Promise<Float32Array | undefined> {
    const origin = this.o.origin();
    if (origin === undefined) return undefined;
    if (this.poolOrigin !== origin) {
      void this.pool?.close();
      this.pool = new Pool(origin, { connections: 16, pipelining: 1 });
      this.poolOrigin = origin;
    }
    try {
      const res = await this.pool!.request({
        method: 'POST',
        path: '/v1/embeddings',
        headers: forwardedHeaders(headers),
        body: JSON.stringify({ model: embeddingModel, input: text, encoding_format: 'float' }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body: unknown = await res.body.json().catch(() => undefined);
      if (res.statusCode !== 200) {
        this.failures++;
        this.o.logger.debug('semantic cache: embedding refused', { status: res.statusCode, model: embeddingModel });
        return undefined;
      }
      const v = vectorOf(body);
      if (v === undefined) this.failures++;
      return v;
    } catch (err) {
      this.failures++;
      this.o.logger.debug('semantic cache: embedding failed', { err, model: embeddingModel });
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}

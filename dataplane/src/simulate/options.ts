/**
 * Behaviour of the simulated provider: process-wide defaults (from flags) and per-request overrides
 * (from `x-simulate-*` headers). Pure parsing; the server reads the frozen result.
 */
import { isDuration, parseDuration } from '../config/duration.js';

export interface SimulateOptions {
  /** Time to first byte of every answer, in ms. */
  latencyMs: number;
  /** Pause between stream chunks, in ms (0: the whole stream is written at once). */
  chunkIntervalMs: number;
  /** Tokens (= stream chunks) per answer, before max_tokens caps it. */
  outputTokens: number;
  /** Share of requests answered with a server error (500/503 OpenAI style, 500/529 Anthropic style). */
  errorRate: number;
  /** Share of requests answered 429 with retry-after. */
  rateLimitRate: number;
  /** retry-after seconds sent on 429. */
  retryAfterSeconds: number;
  /** Models listed by GET /v1/models (any model name is served). */
  models: readonly string[];
  /** Default embedding size when the request has no `dimensions`. */
  embeddingDimensions: number;
  /** When set, requests must carry this key (Bearer or x-api-key), else 401. */
  apiKey: string | undefined;
  /** Seed of the error-rate draws, so a chaos run can be replayed. */
  seed: number;
  /** Largest accepted request body. */
  maxBodyBytes: number;
}

export const DEFAULT_MODELS: readonly string[] = Object.freeze([
  'gpt-4o',
  'gpt-4o-mini',
  'text-embedding-3-small',
  'claude-sonnet-4-5',
  'claude-haiku-4-5',
]);

export const DEFAULT_OPTIONS: SimulateOptions = Object.freeze({
  latencyMs: 0,
  chunkIntervalMs: 0,
  outputTokens: 16,
  errorRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  models: DEFAULT_MODELS,
  embeddingDimensions: 1536,
  apiKey: undefined,
  seed: 1,
  maxBodyBytes: 32 * 1024 * 1024,
});

/** `20ms`, `1.5s`, or a bare number of milliseconds. Throws with a message naming `what`. */
export function parseMillis(value: string, what: string): number {
  const v = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v);
  if (isDuration(v)) return parseDuration(v);
  throw new Error(`${what}: "${value}" is not a duration (use 20ms, 1.5s, or a number of milliseconds)`);
}

export function parseCount(value: string, what: string): number {
  const v = value.trim();
  if (!/^\d+$/.test(v)) throw new Error(`${what}: "${value}" is not a whole number`);
  return Number(v);
}

export function parseRate(value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new Error(`${what}: "${value}" must be a number from 0 to 1`);
  return n;
}

/** Chunk pause from a tokens-per-second pace (0 or less: no pause). */
export function intervalFromTokensPerSecond(tps: number): number {
  return tps > 0 ? 1000 / tps : 0;
}

/** What one request may override, from its headers. */
export interface RequestOverrides {
  latencyMs?: number;
  chunkIntervalMs?: number;
  outputTokens?: number;
  /** Answer with this error status instead of a completion. */
  status?: number;
  /** Cut the stream (socket destroyed, or an Anthropic error event) after this many content chunks. */
  disconnectAfter?: number;
  retryAfterSeconds?: number;
}

type Headers = Record<string, string | string[] | undefined>;

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads the `x-simulate-*` headers; throws an Error whose message says which header is wrong. */
export function parseOverrides(h: Headers): RequestOverrides | undefined {
  const o: RequestOverrides = {};
  let set = false;
  let v = header(h, 'x-simulate-latency');
  if (v !== undefined) {
    o.latencyMs = parseMillis(v, 'x-simulate-latency');
    set = true;
  }
  v = header(h, 'x-simulate-chunk-interval');
  if (v !== undefined) {
    o.chunkIntervalMs = parseMillis(v, 'x-simulate-chunk-interval');
    set = true;
  }
  v = header(h, 'x-simulate-tokens-per-second');
  if (v !== undefined) {
    const tps = Number(v);
    if (v.trim() === '' || !Number.isFinite(tps) || tps < 0)
      throw new Error(`x-simulate-tokens-per-second: "${v}" must be a non-negative number`);
    o.chunkIntervalMs = intervalFromTokensPerSecond(tps);
    set = true;
  }
  v = header(h, 'x-simulate-output-tokens');
  if (v !== undefined) {
    o.outputTokens = parseCount(v, 'x-simulate-output-tokens');
    set = true;
  }
  v = header(h, 'x-simulate-status');
  if (v !== undefined) {
    const s = parseCount(v, 'x-simulate-status');
    if (s < 200 || s > 599) throw new Error(`x-simulate-status: "${v}" must be an HTTP status from 200 to 599`);
    if (s >= 400) {
      o.status = s;
      set = true;
    }
  }
  v = header(h, 'x-simulate-disconnect-after');
  if (v !== undefined) {
    o.disconnectAfter = parseCount(v, 'x-simulate-disconnect-after');
    set = true;
  }
  v = header(h, 'x-simulate-retry-after');
  if (v !== undefined) {
    o.retryAfterSeconds = parseCount(v, 'x-simulate-retry-after');
    set = true;
  }
  return set ? o : undefined;
}

/** A small seeded PRNG (mulberry32): error draws are reproducible for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

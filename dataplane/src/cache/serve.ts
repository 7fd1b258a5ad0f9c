/**
 * What the attempt loop does with the cache (ADR 0070), as functions over the call's facts, so proxy/ keeps one
 * line per hook: render a hit, decide whether an answer may be stored and build its entry, and split/merge an
 * embeddings batch of which some items were cached. Pure except for `ResponseCache.put` (fire and forget).
 */
import type { RouteConfig } from '../../../contract/gateway-config.js';
import type { ClientFormat } from '../errors.js';
import type { Usage } from '../providers/types.js';
import type { SseEvent } from '../sse/sse.js';
import type { ResponseCache } from './cache.js';
import type { CachedEmbedding, CacheEntry, CacheState, CanonicalAnswer, StreamCapture } from './types.js';

/** Layout version of a CachedEmbedding. */
const EMBEDDING_V = 1;

export interface HitFacts {
  readonly format: ClientFormat;
  readonly model: string;
  readonly stream: boolean;
  readonly clientWantsUsage: boolean;
  /** Epoch seconds. */
  readonly now: number;
}

export interface RenderedHit {
  readonly sse: boolean;
  readonly payload: string;
  /** Seconds since the (oldest) entry was stored: the `age` header. */
  readonly ageSeconds: number;
}

/** A hit's answer, or undefined when it cannot be rendered (the request then goes upstream as a miss). */
export function renderHit(cache: ResponseCache, s: CacheState, f: HitFacts): RenderedHit | undefined {
  const nowMs = cache.now();
  const items = s.items;
  if (items !== undefined) {
    const entries = items.hits;
    let oldest = nowMs;
    for (const e of entries) if (e !== undefined && e.storedAt < oldest) oldest = e.storedAt;
    const all = entries.map(asEmbedding);
    const body = embeddingsBody(f.model, all, tokensOf(all));
    if (body === undefined) return undefined;
    return { sse: false, payload: JSON.stringify(body), ageSeconds: age(nowMs, oldest) };
  }
  const e = s.entry;
  const codec = cache.codec;
  if (e === undefined || codec === undefined || e.answer.operation !== 'chat') return undefined;
  const ctx = { model: f.model, now: f.now, clientWantsUsage: f.clientWantsUsage };
  const r = codec.replay;
  const payload = f.stream ? r.stream(e.answer, f.format, ctx) : r.json(e.answer, f.format, ctx);
  return { sse: f.stream, payload, ageSeconds: age(nowMs, e.storedAt) };
}

function age(nowMs: number, storedAt: number): number {
  return Math.max(0, Math.floor((nowMs - storedAt) / 1000));
}

/** Stores a chat answer if it is complete (not cut by the token limit unless the route says so). */
export function storeChat(
  cache: ResponseCache,
  route: RouteConfig,
  s: CacheState,
  answer: CanonicalAnswer | undefined,
  provider: string,
  upstreamModel: string,
): void {
  const key = s.key;
  if (key === undefined || answer === undefined) return;
  if (answer.stop === 'length' && route.cache?.includeTruncated !== true) return;
  cache.put(route, key, { storedAt: cache.now(), provider, upstreamModel, answer });
  if (s.semantic !== undefined) cache.remember(route, s, key);
}

/**
 * An embeddings answer from upstream: the items it computed are stored, and when some items came from the
 * cache the client's body is the merge of both, in the client's order, with the usage of all items.
 * Returns the body to send (the upstream's own when nothing was merged).
 */
export function embeddingsAnswer(
  cache: ResponseCache,
  route: RouteConfig,
  s: CacheState,
  body: unknown,
  usage: Usage | undefined,
  provider: string,
  upstreamModel: string,
): unknown {
  const items = s.items;
  if (items === undefined) return body;
  const data = dataOf(body);
  if (data === undefined || data.length !== items.missing.length) return body;
  const perItem = usage === undefined ? 0 : Math.round(usage.inputTokens / Math.max(1, data.length));
  const responseModel =
    typeof (body as { model?: unknown }).model === 'string' ? (body as { model: string }).model : undefined;
  const storedAt = cache.now();
  const fresh: CachedEmbedding[] = new Array(data.length);
  for (let j = 0; j < data.length; j++) {
    const d = data[j];
    const embedding = d?.embedding;
    if (!Array.isArray(embedding) && typeof embedding !== 'string') return body;
    fresh[j] = { v: EMBEDDING_V, operation: 'embeddings', embedding, inputTokens: perItem, responseModel };
  }
  for (let j = 0; j < fresh.length; j++) {
    const i = items.missing[j] as number;
    const entry: CacheEntry = { storedAt, provider, upstreamModel, answer: fresh[j] as CachedEmbedding };
    cache.put(route, items.keys[i] as string, entry);
  }
  if (items.missing.length === items.keys.length) return body;
  const cached: (CachedEmbedding | undefined)[] = items.hits.map(asEmbedding);
  const tokens = (usage?.inputTokens ?? 0) + tokensOf(cached);
  for (let j = 0; j < fresh.length; j++) cached[items.missing[j] as number] = fresh[j];
  return embeddingsBody(responseModel ?? '', cached, tokens) ?? body;
}

function asEmbedding(e: CacheEntry | undefined): CachedEmbedding | undefined {
  return e !== undefined && e.answer.operation === 'embeddings' ? e.answer : undefined;
}

function dataOf(body: unknown): { embedding?: unknown }[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const data = (body as { data?: unknown }).data;
  if (!Array.isArray(data)) return undefined;
  // Upstreams answer in input order; sort by index when they say it.
  return [...data].sort((a, b) => (a?.index ?? 0) - (b?.index ?? 0));
}

function tokensOf(items: readonly (CachedEmbedding | undefined)[]): number {
  let n = 0;
  for (const it of items) n += it?.inputTokens ?? 0;
  return n;
}

/** An OpenAI embeddings body from items (undefined when one is missing), with `tokens` as its usage. */
function embeddingsBody(
  model: string,
  items: readonly (CachedEmbedding | undefined)[],
  tokens: number,
): Record<string, unknown> | undefined {
  const data: Record<string, unknown>[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (it === undefined) return undefined;
    data[i] = { object: 'embedding', index: i, embedding: it.embedding };
  }
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** Input tokens a hit saved (chat: the original usage; embeddings: the cached items). */
export function savedUsage(s: CacheState): { usage: Usage; provider: string; upstreamModel: string } | undefined {
  const e = s.entry;
  if (e !== undefined && e.answer.operation === 'chat' && e.answer.usage !== undefined)
    return { usage: e.answer.usage, provider: e.provider, upstreamModel: e.upstreamModel };
  const items = s.items;
  if (items === undefined) return undefined;
  let tokens = 0;
  let first: CacheEntry | undefined;
  for (const h of items.hits)
    if (h !== undefined && h.answer.operation === 'embeddings') {
      tokens += h.answer.inputTokens;
      first ??= h;
    }
  if (first === undefined) return undefined;
  return {
    usage: {
      inputTokens: tokens,
      outputTokens: 0,
      cachedInputTokens: 0,
      cacheCreationTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    },
    provider: first.provider,
    upstreamModel: first.upstreamModel,
  };
}

/**
 * A capture that never throws into the relay: the first failure turns it off (the answer is then not
 * stored), the stream itself goes on untouched.
 */
export class GuardedCapture implements StreamCapture {
  private failed = false;
  constructor(
    private readonly inner: StreamCapture,
    private readonly onError: (err: unknown) => void,
  ) {}

  event(ev: SseEvent): void {
    if (this.failed) return;
    try {
      this.inner.event(ev);
    } catch (err) {
      this.failed = true;
      this.onError(err);
    }
  }

  end(usage: Usage | undefined, responseModel: string | undefined): CanonicalAnswer | undefined {
    if (this.failed) return undefined;
    return this.inner.end(usage, responseModel);
  }
}

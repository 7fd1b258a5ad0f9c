/**
 * The response cache of one gateway (ADR 0070): the store, the answer codec (capture + replay, canonical*.ts
 * and replay*.ts) and what the lookup stage and the attempt loop ask of it. Routes without `spec.cache` never
 * reach it (the lookup stage returns at its first check).
 */
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../../../contract/gateway-config.js';
import { cacheEntryKey } from '../../../contract/shared-state.js';
import type { RoutedExchange } from '../pipeline/exchange.js';
import { forwardedClientHeaders } from '../providers/index.js';
import { cacheScope, chatKey, embeddingItemKeys, embeddingItems } from './key.js';
import type { SemanticCache } from './semantic.js';
import type { AnswerCapture, AnswerReplay, CacheEntry, CacheState, CacheStore } from './types.js';

/** The canonical answer form's two halves (canonical*.ts capture, replay*.ts render). */
export interface AnswerCodec {
  readonly capture: AnswerCapture;
  readonly replay: AnswerReplay;
}

export interface ResponseCacheOptions {
  readonly store: CacheStore;
  /** Capture and replay of chat answers; absent: chat requests on cached routes are bypassed (embeddings are cached). */
  readonly codec?: AnswerCodec | undefined;
  /** Epoch ms; tests inject a clock. */
  readonly now?: () => number;
  /**
   * The semantic index and embedder (ADR 0076) for `mode: semantic` routes, or how to open them on the first
   * semantic lookup (a process without semantic routes never probes Redis for vector sets); absent: those
   * routes are exact only.
   */
  readonly semantic?: SemanticCache | (() => Promise<SemanticCache>) | undefined;
}

/** What the client asked of the cache in `cache-control`. */
export interface ClientCacheControl {
  readonly noCache: boolean;
  readonly noStore: boolean;
}

const NO_DIRECTIVES: ClientCacheControl = Object.freeze({ noCache: false, noStore: false });

export function clientCacheControl(req: IncomingMessage): ClientCacheControl {
  const h = req.headers['cache-control'];
  if (h === undefined || h === '') return NO_DIRECTIVES;
  const v = h.toLowerCase();
  const noStore = /(?:^|[\s,])no-store(?:$|[\s,])/.test(v);
  return { noStore, noCache: noStore || /(?:^|[\s,])no-cache(?:$|[\s,])/.test(v) };
}

export class ResponseCache {
  readonly store: CacheStore;
  readonly codec: AnswerCodec | undefined;
  readonly now: () => number;
  /** The semantic cache once open (at once when given open, else after the first semantic lookup opened it). */
  semantic: SemanticCache | undefined;
  private readonly openSemantic: (() => Promise<SemanticCache>) | undefined;
  private opening: Promise<SemanticCache | undefined> | undefined;
  private closed = false;

  constructor(o: ResponseCacheOptions) {
    this.store = o.store;
    this.codec = o.codec;
    this.now = o.now ?? Date.now;
    const sem = o.semantic;
    this.semantic = typeof sem === 'function' ? undefined : sem;
    this.openSemantic = typeof sem === 'function' ? sem : undefined;
  }

  /**
   * The cache state of a request on a cached route: a bypass at once (client directives, nothing the cache
   * can key), else a hit or a miss: at once from an in-process store, a Promise from Redis. Never rejects: the
   * stores never do.
   */
  lookup(x: RoutedExchange, cache: NonNullable<RouteConfig['cache']>): CacheState | Promise<CacheState> {
    const cc = clientCacheControl(x.req);
    const scope = cacheScope(cache.scope, x.route.namespace, x.key?.id);
    const input = {
      format: x.clientFormat,
      model: x.model,
      body: x.body,
      headers: forwardedClientHeaders(x.req.headers),
    };
    if (x.operation === 'embeddings') {
      const digests = embeddingItemKeys(input);
      if (digests === undefined) return state('bypass', undefined);
      const keys = digests.map((d) => cacheEntryKey(scope, d));
      if (cc.noCache) return state('bypass', undefined, cc.noStore ? undefined : itemsAllMissing(keys));
      const sync = this.store.sync;
      return sync === undefined
        ? this.store.getMany(keys).then((h) => itemsState(keys, h))
        : itemsState(keys, sync.getMany(keys));
    }
    if (this.codec === undefined) return state('bypass', undefined);
    const key = cacheEntryKey(scope, chatKey(input));
    const semantic = cache.mode === 'semantic' && (this.semantic !== undefined || this.openSemantic !== undefined);
    if (cc.noCache) {
      if (cc.noStore) return state('bypass', undefined);
      return semantic ? this.semanticPrepare(x, cache, key) : state('bypass', key);
    }
    if (semantic) return this.semanticLookup(x, cache, key);
    const sync = this.store.sync;
    return sync === undefined ? this.store.get(key).then((e) => chatState(key, e)) : chatState(key, sync.get(key));
  }

  /**
   * mode semantic (ADR 0076): the exact key first; on its miss, the nearest stored prompt of the same
   * fingerprint (SemanticCache.find). A miss keeps the prompt's vector for `remember` at the store step.
   */
  private async semanticLookup(
    x: RoutedExchange,
    cache: NonNullable<RouteConfig['cache']>,
    key: string,
  ): Promise<CacheState> {
    const exact = chatState(key, await this.store.get(key));
    if (exact.result === 'hit') return exact;
    const sem = this.semantic ?? (await this.semanticOpened());
    if (sem === undefined) return exact;
    const found = await sem.find(x, cache, (k) => this.store.get(k));
    exact.semantic = found.lookup;
    const e = found.entry;
    if (e === undefined || e.answer.operation !== 'chat') return exact;
    exact.result = 'hit';
    exact.entry = e;
    exact.similarity = found.similarity;
    return exact;
  }

  /** no-cache on a semantic route: a bypass that still embeds the prompt, so its stored answer is indexed. */
  private async semanticPrepare(
    x: RoutedExchange,
    cache: NonNullable<RouteConfig['cache']>,
    key: string,
  ): Promise<CacheState> {
    const st = state('bypass', key);
    const sem = this.semantic ?? (await this.semanticOpened());
    if (sem !== undefined) st.semantic = await sem.prepare(x, cache);
    return st;
  }

  /** Indexes a semantic lookup's prompt to the key its answer was just stored under (fire and forget). */
  remember(route: RouteConfig, s: CacheState, key: string): void {
    const l = s.semantic;
    const c = route.cache;
    if (l !== undefined && c !== undefined) this.semantic?.remember(l, key, c.ttlMs);
  }

  /** The semantic cache, opened once by the first semantic lookup; undefined when closed meanwhile. */
  private semanticOpened(): Promise<SemanticCache | undefined> {
    const open = this.openSemantic;
    if (this.opening === undefined && open !== undefined && !this.closed)
      this.opening = open().then(
        (sem) => {
          if (this.closed) return sem.close().then(() => undefined);
          this.semantic = sem;
          return sem;
        },
        () => undefined,
      );
    return this.opening ?? Promise.resolve(undefined);
  }

  /** Closes the store and the semantic index and embedder (once opened). */
  async close(): Promise<void> {
    this.closed = true;
    const sem = this.semantic;
    this.semantic = undefined;
    // Still opening: it closes what it opened when it sees `closed` (semanticOpened).
    await Promise.all([this.store.close(), sem?.close(), this.opening]);
  }

  /** Stores an answer (fire and forget). */
  put(route: RouteConfig, key: string, entry: CacheEntry): void {
    const c = route.cache;
    if (c !== undefined) this.store.set(key, entry, c.ttlMs);
  }
}

function state(result: CacheState['result'], key: string | undefined, items?: CacheState['items']): CacheState {
  return { result, key, similarity: undefined, entry: undefined, items, semantic: undefined };
}

function chatState(key: string, entry: CacheEntry | undefined): CacheState {
  if (entry === undefined || entry.answer.operation !== 'chat') return state('miss', key);
  const s = state('hit', key);
  s.entry = entry;
  return s;
}

function itemsState(keys: string[], hits: (CacheEntry | undefined)[]): CacheState {
  const missing: number[] = [];
  for (let i = 0; i < hits.length; i++) if (!isEmbedding(hits[i])) missing.push(i);
  for (const i of missing) hits[i] = undefined;
  return state(missing.length === 0 ? 'hit' : 'miss', undefined, { keys, hits, missing });
}

function itemsAllMissing(keys: string[]): NonNullable<CacheState['items']> {
  return { keys, hits: keys.map(() => undefined), missing: keys.map((_, i) => i) };
}

function isEmbedding(e: CacheEntry | undefined): boolean {
  return e !== undefined && e.answer.operation === 'embeddings';
}

/** The number of items an embeddings body asks for (for merging), or undefined. */
export function itemCount(body: Readonly<Record<string, unknown>>): number | undefined {
  return embeddingItems(body.input)?.length;
}

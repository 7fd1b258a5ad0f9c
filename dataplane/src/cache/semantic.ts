/**
 * The semantic cache's two calls for the cache stages (ADR 0076, docs/cache.md): `lookup` (on an exact miss:
 * is the request eligible, embed its prompt through the embedding route, the nearest stored prompt of the
 * same fingerprint at cosine ≥ threshold) and `remember` (once the answer is stored under its exact key:
 * index the prompt's vector to that key). The answer itself lives in the cache's store under the exact key;
 * the index only maps prompts to keys.
 */
import type { IncomingMessage } from 'node:http';
import type { ApiKeyConfig } from '../../../contract/gateway-config.js';
import type { ClientFormat } from '../errors.js';
import type { Logger } from '../log.js';
import { PromptEmbedder } from './semantic-embed.js';
import type { MemoryIndexOptions, SemanticIndex, SemanticMatch } from './semantic-index.js';
import { type SemanticIneligible, semanticFingerprint, semanticPrompt, semanticScopeId } from './semantic-prompt.js';
import { openSemanticIndex } from './semantic-redis.js';

/** The route's `spec.cache` as the semantic cache needs it (the cache's RouteConfig.cache fits). */
export interface SemanticSettings {
  readonly scope: 'namespace' | 'perKey';
  readonly semantic?:
    | {
        readonly embeddingModel: string;
        readonly threshold: number;
        /** Look up requests with tools or tool results too (agent steps); default false. */
        readonly includeAgentSteps?: boolean | undefined;
      }
    | undefined;
}

/** What of a request the semantic cache reads (a RoutedExchange fits). */
export interface SemanticRequest {
  readonly req: IncomingMessage;
  readonly clientFormat: ClientFormat;
  readonly body: Readonly<Record<string, unknown>>;
  readonly model: string;
  readonly key: ApiKeyConfig | undefined;
  readonly route: { readonly id: string; readonly namespace: string };
}

/** A lookup's outcome: keep it on the exchange until the store step (it carries the vector for `remember`). */
export interface SemanticLookup {
  readonly fingerprint: string;
  readonly vector: Float32Array;
  /** The nearest stored prompt at or above the threshold; undefined: a miss. */
  readonly match: SemanticMatch | undefined;
}

export class SemanticCache {
  constructor(
    readonly index: SemanticIndex,
    private readonly embedder: PromptEmbedder,
  ) {}

  /**
   * Undefined when there is nothing to look up (not mode semantic, not eligible) or the embedding failed:
   * the request goes upstream and is not indexed. Never rejects.
   */
  async lookup(x: SemanticRequest, s: SemanticSettings): Promise<SemanticLookup | undefined> {
    const v = await this.embedPrompt(x, s);
    if (v === undefined) return undefined;
    const fingerprint = fingerprintOf(x, s);
    const nearest = await this.index.nearest(fingerprint, v);
    const match = nearest !== undefined && nearest.similarity >= s.semantic!.threshold ? nearest : undefined;
    return { fingerprint, vector: v, match };
  }

  /**
   * `cache-control: no-cache` on a semantic route: no search, but the prompt is embedded so that `remember` can
   * index the answer stored for it (the client skips the read, not the store). Undefined as for `lookup`.
   */
  async prepare(x: SemanticRequest, s: SemanticSettings): Promise<SemanticLookup | undefined> {
    const v = await this.embedPrompt(x, s);
    return v === undefined ? undefined : { fingerprint: fingerprintOf(x, s), vector: v, match: undefined };
  }

  /** The unit embedding of x's prompt through the embedding route; undefined on any failure or when ineligible. */
  embedPrompt(x: SemanticRequest, s: SemanticSettings): Promise<Float32Array | undefined> {
    const sem = s.semantic;
    if (sem === undefined) return Promise.resolve(undefined);
    const p = semanticPrompt(x.clientFormat, x.body, sem.includeAgentSteps === true);
    if (typeof p === 'string') return Promise.resolve(undefined);
    return this.embedder.embed(x.req.headers, sem.embeddingModel, p.text);
  }

  /**
   * The lookup stage's call on an exact miss: `lookup`, then the matched entry read from the cache's store
   * (`get`: CacheStore.get). A match whose entry is gone from the store (evicted, expired) is a miss. `lookup`
   * is undefined when nothing was looked up (then nothing is to be remembered either).
   */
  async find<E>(
    x: SemanticRequest,
    s: SemanticSettings,
    get: (entryKey: string) => Promise<E | undefined>,
  ): Promise<{ lookup: SemanticLookup | undefined; entry: E | undefined; similarity: number | undefined }> {
    const lookup = await this.lookup(x, s);
    const m = lookup?.match;
    if (m === undefined) return { lookup, entry: undefined, similarity: undefined };
    const entry = await get(m.entryKey);
    return { lookup, entry, similarity: entry === undefined ? undefined : m.similarity };
  }

  /** Indexes the looked-up prompt to the key its answer was stored under (fire and forget). */
  remember(l: SemanticLookup, entryKey: string, ttlMs: number): void {
    this.index.add(l.fingerprint, l.vector, entryKey, ttlMs);
  }

  async close(): Promise<void> {
    await Promise.all([this.index.close(), this.embedder.close()]);
  }
}

/** Why x is not looked up semantically (undefined: it is eligible); for the bypass reason and tests. */
export function semanticIneligible(x: SemanticRequest, s: SemanticSettings): SemanticIneligible | undefined {
  const p = semanticPrompt(x.clientFormat, x.body, s.semantic?.includeAgentSteps === true);
  return typeof p === 'string' ? p : undefined;
}

export function fingerprintOf(x: SemanticRequest, s: SemanticSettings): string {
  const scope = semanticScopeId(s.scope, x.route.namespace, x.key?.id);
  return semanticFingerprint(
    { scope, routeId: x.route.id, model: x.model, embeddingModel: s.semantic?.embeddingModel ?? '' },
    x.clientFormat,
    x.body,
  );
}

export interface OpenSemanticCacheOptions {
  /** The cache's shared Redis; undefined: the in-process index. */
  readonly redisUrl: string | undefined;
  /** The gateway's own origin once it listens (`http://127.0.0.1:<port>`). */
  readonly origin: () => string | undefined;
  readonly logger: Logger;
  readonly embeddingTimeoutMs?: number;
  readonly memory?: MemoryIndexOptions;
}

/** The semantic cache of a data plane: the index (Redis 8 vector sets or in-process) and the embedder. */
export async function openSemanticCache(o: OpenSemanticCacheOptions): Promise<SemanticCache> {
  const index = await openSemanticIndex({ url: o.redisUrl, logger: o.logger, memory: o.memory });
  return new SemanticCache(
    index,
    new PromptEmbedder({ origin: o.origin, logger: o.logger, timeoutMs: o.embeddingTimeoutMs }),
  );
}

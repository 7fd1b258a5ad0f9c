/**
 * The response cache's shapes (ADR 0070), shared by the cache frame (key.ts, store*.ts, the cache stages),
 * the canonical answer form (canonical*.ts, replay*.ts: the replay helper) and the semantic index
 * (semantic*.ts). Types only: nothing here runs.
 *
 * Flow: lookup stage → key (key.ts) → store.get → hit: `AnswerReplay.json` / `.stream` writes the answer
 * through pipeline/respond.ts and the request is Answered; miss: the attempt loop runs with a capture
 * (`AnswerCapture.json` for a whole answer, `AnswerCapture.stream()` fed each client-format event the relay
 * writes), and a complete, successful answer is stored as a CacheEntry.
 */
import type { ClientFormat } from '../errors.js';
import type { Operation, Usage } from '../providers/types.js';
import type { SseEvent } from '../sse/sse.js';
import type { SemanticLookup } from './semantic.js';

/**
 * Why an answer ended, in one vocabulary for both client formats (OpenAI finish_reason / Anthropic
 * stop_reason): `stop` (end_turn, stop_sequence, stop), `length` (max_tokens, length: cut by the token
 * limit), `tool_calls` (tool_use), `content_filter` (refusal), `other` (anything else).
 */
export type CanonicalStop = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';

/**
 * One chat answer in a form independent of the client format it was captured from: a plain, JSON-serialisable
 * object (stored in Redis as JSON). The replay helper owns the fields after the common head (content blocks,
 * tool calls, ids ...); the cache frame reads only the head.
 */
export interface CanonicalAnswer {
  /** Layout version of the canonical form; an entry of another version is a miss (never misread). */
  readonly v: number;
  readonly operation: 'chat';
  /** The model the provider reported (gen_ai.response.model). */
  readonly responseModel: string | undefined;
  /** The usage of the original answer (what a hit saved; replayed as the answer's usage). */
  readonly usage: Usage | undefined;
  readonly stop: CanonicalStop;
  /** The answer's content, replay's own layout (JSON values only). */
  readonly content: unknown;
}

/** A whole-answer / stream capture: builds the CanonicalAnswer from what the client was sent. */
export interface AnswerCapture {
  /**
   * A whole (non-streaming) chat answer, the client-format body as sent. Undefined: not capturable
   * (unknown shape); the answer is then not stored.
   */
  json(format: ClientFormat, body: unknown, usage: Usage | undefined): CanonicalAnswer | undefined;
  /** A capture for one streamed answer, fed every client-format event in order. */
  stream(format: ClientFormat): StreamCapture;
}

export interface StreamCapture {
  /** One client-format event as written to the client (the relay's translated output). */
  event(ev: SseEvent): void;
  /**
   * The stream ended cleanly (terminal event seen, no error event): the canonical answer, with the usage the
   * translator reported. Undefined: not capturable.
   */
  end(usage: Usage | undefined, responseModel: string | undefined): CanonicalAnswer | undefined;
}

/** What a replay needs besides the answer. */
export interface ReplayContext {
  /** The model the client asked for (echoed as `model`, as the live path does for translated answers). */
  readonly model: string;
  /** Epoch seconds for `created` and similar. */
  readonly now: number;
  /** OpenAI `stream_options.include_usage` (Anthropic streams always carry usage). */
  readonly clientWantsUsage: boolean;
}

/** Renders a CanonicalAnswer in a client format. Pure. */
export interface AnswerReplay {
  /** The whole JSON body of a non-streaming answer. */
  json(answer: CanonicalAnswer, format: ClientFormat, ctx: ReplayContext): string;
  /** The whole event stream (every `data:`/`event:` frame, terminator included), written in one go. */
  stream(answer: CanonicalAnswer, format: ClientFormat, ctx: ReplayContext): string;
}

/**
 * One embedding of one input item, as the client got it (a number array, or a base64 string when the client
 * asked for encoding_format base64: the format is part of the key).
 */
export interface CachedEmbedding {
  readonly v: number;
  readonly operation: 'embeddings';
  readonly embedding: readonly number[] | string;
  /** Input tokens of this item (the batch's prompt_tokens split evenly when the provider reports only the total). */
  readonly inputTokens: number;
  readonly responseModel: string | undefined;
}

/** What the store keeps under a key. */
export interface CacheEntry {
  /** Epoch milliseconds when it was stored (the hit's `age` header). */
  readonly storedAt: number;
  /** The provider (id, `<namespace>/<name>`) and model that produced it: what a hit saved is priced with these. */
  readonly provider: string;
  readonly upstreamModel: string;
  readonly answer: CanonicalAnswer | CachedEmbedding;
}

/** A shared or local store of entries (store-memory.ts, store-redis.ts). Never throws or rejects. */
export interface CacheStore {
  /** The entry, or undefined (absent, expired, unreadable, or the store did not answer in time: a miss). */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Several at once (embeddings items); the array has one slot per key. */
  getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]>;
  /** A store that answers without I/O (in-process) also reads synchronously: the lookup then costs no await. */
  readonly sync?: {
    get(key: string): CacheEntry | undefined;
    getMany(keys: readonly string[]): (CacheEntry | undefined)[];
  };
  /** Stores with a TTL; an entry over the size cap is dropped. Fire and forget: failures are counted, not raised. */
  set(key: string, entry: CacheEntry, ttlMs: number): void;
  close(): Promise<void>;
}

/** The cache result of a request on a cached route (x-tollgate-cache, tollgate_cache_requests_total). */
export type CacheResult = 'hit' | 'miss' | 'bypass';

/** What the lookup stage leaves on the exchange for the store step, the headers and accounting. */
export interface CacheState {
  result: CacheResult;
  /** The key the answer is stored under (undefined: nothing is stored, e.g. no-store). */
  key: string | undefined;
  /** Semantic hits: the similarity of the matched prompt. */
  similarity: number | undefined;
  /** mode semantic, after an exact miss: the prompt's vector, indexed to `key` once the answer is stored. */
  semantic: SemanticLookup | undefined;
  /** The entry served on a hit. */
  entry: CacheEntry | undefined;
  /** `operation: embeddings` split: per input item, its key and cached entry (undefined: to be fetched). */
  items: EmbeddingItems | undefined;
}

export interface EmbeddingItems {
  readonly keys: readonly string[];
  readonly hits: (CacheEntry | undefined)[];
  /** Indexes (into the client's input) of the items sent upstream, in order. */
  readonly missing: readonly number[];
}

/** Operations the cache serves; a seam for the Responses API (not in the tree yet): add it here and in key.ts. */
export type CachedOperation = Extract<Operation, 'chat' | 'embeddings'>;

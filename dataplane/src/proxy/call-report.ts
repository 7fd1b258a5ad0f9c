/**
 * The half of a call that faces the client and the hooks: the answer's head and error answers (through
 * pipeline/respond.ts), the first byte, the hooks' attempt reports and the one finish report. ProxyCall extends
 * it (one object per request; the split is by job, not by allocation). (ADR 0040)
 */
import type { ServerResponse } from 'node:http';
import { embeddingsAnswer, GuardedCapture, renderHit, storeChat } from '../cache/serve.js';
import type { CacheState, StreamCapture } from '../cache/types.js';
import type { GatewayError } from '../errors.js';
import type { AttemptInfo, AttemptOutcome, BackendSkip } from '../pipeline/hooks.js';
import {
  endWithBody,
  JSON_CONTENT_TYPE,
  SSE_CONTENT_TYPE,
  setAnswerHead,
  setTollgateHeaders,
  writeError,
} from '../pipeline/respond.js';
import type { StreamTranslator, Usage } from '../providers/types.js';
import type { BackendStats } from '../routing/stats.js';
import type { CompiledBackend } from '../routing/table.js';
import type { CallShared, RoutedRequest } from './types.js';

export abstract class CallReport {
  protected attempts = 0;
  /** Bit-mask of the backend indexes tried. */
  protected tried = 0;
  /** The backend of the latest try (the one that answered, or was tried last). */
  protected backend: CompiledBackend | undefined;
  protected upstreamModel: string | undefined;
  protected backendLabel: string | undefined;
  protected clientGone = false;
  /** Response headers went to the client (for streams: the first event too). */
  protected started = false;
  protected finished = false;
  private firstByteAt: number | undefined;
  protected usage: Usage | undefined;
  /** The response's completion text, when it reported no usage (for estimation). */
  protected outputText: string | undefined;
  protected responseModel: string | undefined;
  /** The latest stream's translator (its output text, for estimation). */
  protected lastStream: StreamTranslator | undefined;
  /** The stats of the try under way (counted in its `inFlight`); undefined between tries. (ADR 0060) */
  private tryStats: BackendStats | undefined;
  /** performance.now() when the try under way started, and whether it gave its latency sample yet. */
  private tryStartedAt = 0;
  private trySampled = false;
  /** Backends skipped for capacity (capacity-step.ts); made on the first skip. */
  protected skips: BackendSkip[] | undefined;
  /** The client-close listener (removed when the call finishes). */
  protected abstract readonly onClose: () => void;

  constructor(
    protected readonly shared: CallShared,
    protected readonly res: ServerResponse,
    protected readonly r: RoutedRequest,
  ) {}

  /** Counts a try on `b`; the AttemptInfo the hooks see. */
  protected beginTry(b: CompiledBackend, model: string): AttemptInfo {
    this.attempts++;
    this.tried |= 1 << b.index;
    this.backend = b;
    this.upstreamModel = model;
    const label = b.label ?? `${b.provider.name}/${model}`;
    this.backendLabel = label;
    const startedAt = performance.now();
    this.endTryStats(startedAt, 'aborted'); // tries never overlap: none is open here
    b.stats.inFlight++;
    this.tryStats = b.stats;
    this.tryStartedAt = startedAt;
    this.trySampled = false;
    return { attempt: this.attempts, provider: b.provider, upstreamModel: model, backend: label, startedAt };
  }

  /**
   * The try under way ended (or the call did): its backend's in-flight count drops, once, and a try that gave
   * no latency sample at its first byte gives one now (a failure only raises the average). (ADR 0060)
   */
  private endTryStats(at: number, outcome: AttemptOutcome): void {
    const s = this.tryStats;
    if (s === undefined) return;
    this.tryStats = undefined;
    s.inFlight--;
    if (this.trySampled || outcome === 'aborted') return;
    if (outcome === 'ok') s.observe(at - this.tryStartedAt, this.shared.health.now());
    else s.observeFailure(at - this.tryStartedAt, this.shared.health.now());
  }

  /** Answers with an error (nothing was sent yet). */
  fail(error: GatewayError): void {
    if (this.finished) return;
    const res = this.res;
    if (this.clientGone || res.headersSent) {
      if (!res.writableEnded) res.end();
      this.finish(this.clientGone ? 499 : error.status, error.code);
      return;
    }
    setTollgateHeaders(res, this.r.route.id, this.backendLabel, this.attempts, this.r.observer.headers);
    const cs = this.r.cache;
    if (cs !== undefined) res.setHeader('x-tollgate-cache', cs.result);
    this.finish(writeError(res, this.r.format, error), error.code);
  }

  /**
   * A cache hit (ADR 0070): the entry's answer, rendered in the client's format, through the one writer; no
   * try, no provider. False when the entry cannot be rendered: the caller goes upstream, as on a miss.
   */
  protected answerFromCache(s: CacheState): boolean {
    const cache = this.shared.cache;
    const r = this.r;
    let hit: ReturnType<typeof renderHit>;
    try {
      hit = cache === undefined ? undefined : renderHit(cache, s, { ...r, now: Math.floor(cache.now() / 1000) });
    } catch (err) {
      this.shared.logger.warn('a cached answer could not be replayed; answering from upstream', { err });
      hit = undefined;
    }
    if (hit === undefined) {
      s.result = 'miss';
      s.entry = undefined;
      if (s.items !== undefined) s.items = undefined;
      return false;
    }
    const res = this.res;
    setAnswerHead(res, 200, hit.sse ? SSE_CONTENT_TYPE : JSON_CONTENT_TYPE);
    setTollgateHeaders(res, r.route.id, undefined, 0, r.observer.headers);
    res.setHeader('x-tollgate-cache', 'hit');
    res.setHeader('age', String(hit.ageSeconds));
    this.started = true;
    if (hit.sse) res.end(hit.payload);
    else endWithBody(res, hit.payload);
    this.markFirstByte();
    this.finish(200, undefined);
    return true;
  }

  /** A whole answer on a cached route: stored if it may be; the body to send (embeddings: merged). */
  protected cacheAnswer(s: CacheState, body: unknown, usage: Usage | undefined): unknown {
    const cache = this.shared.cache;
    const b = this.backend;
    if (cache === undefined || b === undefined) return body;
    const route = this.r.route.config;
    const model = this.upstreamModel ?? this.r.model;
    try {
      if (this.r.operation === 'embeddings')
        return embeddingsAnswer(cache, route, s, body, usage, b.provider.id, model);
      if (s.key !== undefined && cache.codec !== undefined)
        storeChat(cache, route, s, cache.codec.capture.json(this.r.format, body, usage), b.provider.id, model);
    } catch (err) {
      this.shared.logger.warn('an answer could not be cached', { err });
    }
    return body;
  }

  /** The capture of a streamed answer on a cached route that stores (undefined: not stored). */
  protected streamCapture(): StreamCapture | undefined {
    const codec = this.shared.cache?.codec;
    if (codec === undefined || this.r.cache?.key === undefined) return undefined;
    try {
      const logger = this.shared.logger;
      return new GuardedCapture(codec.capture.stream(this.r.format), (err) =>
        logger.warn('a stream capture failed; the answer is not cached', { err }),
      );
    } catch (err) {
      this.shared.logger.warn('a stream capture could not start', { err });
      return undefined;
    }
  }

  /** A stream that ended cleanly: its captured answer is stored if it may be. */
  protected storeStream(capture: StreamCapture): void {
    const cache = this.shared.cache;
    const s = this.r.cache;
    const b = this.backend;
    if (cache === undefined || s === undefined || b === undefined) return;
    try {
      const answer = capture.end(this.usage, this.responseModel);
      storeChat(cache, this.r.route.config, s, answer, b.provider.id, this.upstreamModel ?? this.r.model);
    } catch (err) {
      this.shared.logger.warn('a streamed answer could not be cached', { err });
    }
  }

  // ─── output helpers ───────────────────────────────────────────────────────────────────────────────

  protected writeHead(contentType: string): void {
    setAnswerHead(this.res, 200, contentType);
    setTollgateHeaders(this.res, this.r.route.id, this.backendLabel, this.attempts, this.r.observer.headers);
    const cs = this.r.cache;
    if (cs !== undefined) this.res.setHeader('x-tollgate-cache', cs.result);
    this.started = true;
  }

  protected markFirstByte(): void {
    const at = performance.now();
    this.firstByteAt = at;
    // A stream's first event: its time to first token is the try's latency sample (non-streams end first).
    if (this.tryStats !== undefined && !this.trySampled) {
      this.trySampled = true;
      this.tryStats.observe(at - this.tryStartedAt, this.shared.health.now());
    }
    try {
      this.r.observer.firstByte(at);
    } catch (err) {
      this.shared.logger.warn('hook firstByte threw', { err });
    }
  }

  protected hookAttemptStart(a: AttemptInfo): Readonly<Record<string, string>> | undefined {
    try {
      this.r.observer.attemptStart(a);
      return this.r.observer.upstreamHeaders?.(a);
    } catch (err) {
      this.shared.logger.warn('hook attemptStart threw', { err });
      return undefined;
    }
  }

  protected hookAttemptEnd(a: AttemptInfo, outcome: AttemptOutcome, status: number | undefined): void {
    const endedAt = performance.now();
    this.endTryStats(endedAt, outcome);
    try {
      this.r.observer.attemptEnd(a, { outcome, status, endedAt });
    } catch (err) {
      this.shared.logger.warn('hook attemptEnd threw', { err });
    }
  }

  protected finish(status: number, errorCode: GatewayError['code'] | undefined): void {
    if (this.finished) return;
    this.finished = true;
    // A try the gateway's own code gave up on (an exception while handling its answer) ends here.
    this.endTryStats(0, 'aborted');
    this.res.off('close', this.onClose);
    try {
      this.r.observer.finish({
        status,
        errorCode,
        usage: this.usage,
        // Joined only when the provider reported no usage (accounting then estimates from it), or when
        // content logging asked for it.
        outputText:
          this.usage === undefined || this.shared.keepOutputText
            ? (this.outputText ?? this.lastStream?.outputText?.())
            : undefined,
        responseModel: this.responseModel,
        attempts: this.attempts,
        route: this.r.route.config,
        provider: this.backend?.provider,
        upstreamModel: this.upstreamModel,
        backend: this.backendLabel,
        key: this.r.key,
        clientAborted: this.clientGone,
        endedAt: performance.now(),
        firstByteAt: this.firstByteAt,
        skipped: this.skips,
        cache: this.r.cache,
      });
    } catch (err) {
      this.shared.logger.warn('hook finish threw', { err });
    }
  }
}

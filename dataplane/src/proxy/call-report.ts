/**
 * The half of a call that faces the client and the hooks: the answer's head and error answers (through
 * pipeline/respond.ts), the first byte, the hooks' attempt reports and the one finish report. ProxyCall extends
 * it (one object per request; the split is by job, not by allocation). (ADR 0040)
 */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors.js';
import type { AttemptInfo, AttemptOutcome } from '../pipeline/hooks.js';
import { setAnswerHead, setTollgateHeaders, writeError } from '../pipeline/respond.js';
import type { StreamTranslator, Usage } from '../providers/types.js';
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
    return {
      attempt: this.attempts,
      provider: b.provider,
      upstreamModel: model,
      backend: label,
      startedAt: performance.now(),
    };
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
    this.finish(writeError(res, this.r.format, error), error.code);
  }

  // ─── output helpers ───────────────────────────────────────────────────────────────────────────────

  protected writeHead(contentType: string): void {
    setAnswerHead(this.res, 200, contentType);
    setTollgateHeaders(this.res, this.r.route.id, this.backendLabel, this.attempts, this.r.observer.headers);
    this.started = true;
  }

  protected markFirstByte(): void {
    const at = performance.now();
    this.firstByteAt = at;
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
    try {
      this.r.observer.attemptEnd(a, { outcome, status, endedAt: performance.now() });
    } catch (err) {
      this.shared.logger.warn('hook attemptEnd threw', { err });
    }
  }

  protected finish(status: number, errorCode: GatewayError['code'] | undefined): void {
    if (this.finished) return;
    this.finished = true;
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
      });
    } catch (err) {
      this.shared.logger.warn('hook finish threw', { err });
    }
  }
}

/**
 * One upstream try: undici's dispatch handler and all per-try state, made once per try with every field
 * set (nothing to reset by hand). `pool.dispatch` with it instead of `pool.request` makes no promise, no
 * request handler with a signal listener and no response Readable per try; status, chunks and the end come
 * straight from undici's parser to the call. The call reads only the try it is waiting on (`ProxyCall.cur`):
 * callbacks of a try it let go of are dropped. Errors are handed over in a microtask, as undici's request
 * API did, so `abort()` never re-enters the call. (ADR 0040)
 */
import { type Dispatcher, errors as undiciErrors } from 'undici';
import type { RetryCondition } from '../../../contract/gateway-config.js';
import type { GatewayError } from '../errors.js';
import type { AttemptInfo } from '../pipeline/hooks.js';
import type { ProviderAdapter, ResponseTranslator } from '../providers/types.js';
import type { CompiledBackend } from '../routing/table.js';
import type { StreamRelay } from './stream-relay.js';

/** A try that failed before anything reached the client. */
export interface Failure {
  readonly error: GatewayError;
  /** The retry.on condition it falls under; undefined: never retried. */
  readonly condition: RetryCondition | undefined;
  readonly retryAfterMs: number | undefined;
}

/** Where an attempt's upstream events go (the call). */
export interface AttemptOwner {
  upstreamHeaders(a: Attempt, status: number, headers: Buffer[]): void;
  upstreamData(a: Attempt, chunk: Buffer): boolean;
  upstreamComplete(a: Attempt): void;
  upstreamError(a: Attempt, err: Error): void;
}

/** Shared, never written: the body and headers of a try before its answer came. */
const NONE: Buffer[] = [];

export class Attempt implements Dispatcher.DispatchHandler {
  /** Set once the response ended (nothing left to cancel) or failed. */
  done = false;
  /** The try's own timer fired. */
  timedOut = false;
  /** The response's status; 0 until its headers came. */
  status = 0;
  /** Raw response headers of a body read whole (non-2xx answers, non-streaming requests). */
  headers: Buffer[] = NONE;
  /** A body read whole (non-streaming answers, and every non-2xx answer). */
  chunks: Buffer[] = NONE;
  size = 0;
  /** Set when the answer is a stream translated event by event (a 2xx answer to a streaming request). */
  relay: StreamRelay | undefined = undefined;
  private aborted = false;
  private abortFn: ((err?: Error) => void) | undefined = undefined;
  private resumeFn: (() => void) | undefined = undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly owner: AttemptOwner,
    readonly backend: CompiledBackend,
    readonly info: AttemptInfo,
    readonly translator: ResponseTranslator,
    readonly adapter: ProviderAdapter,
    /** The backend health's `epoch` when the try started (failures of tries older than an ejection do not count). */
    readonly healthEpoch: number,
    timeoutMs: number,
    /** The try's promise (run() awaits it): resolved with its failure, or undefined once the call is finished. */
    readonly settle: (f: Failure | undefined) => void,
    /** The gateway's own code threw while handling the answer (a 500, never a retried failure). */
    readonly reject: (err: unknown) => void,
  ) {
    // Module-level callback + argument: no closure per try.
    this.timer = setTimeout(onTryTimeout, timeoutMs, this);
  }

  /** The try needs its timer no more. */
  stop(): void {
    clearTimeout(this.timer);
  }

  /** Cancels the try: the request and its connection are torn down, and the call gets the error. */
  abort(): void {
    if (this.aborted || this.done) return;
    this.aborted = true;
    // Before undici connected the request: it is cancelled as soon as it is (onConnect).
    this.abortFn?.(new undiciErrors.RequestAbortedError());
  }

  /** Resumes reading a response paused by `onData` returning false (no-op once it ended). */
  resume(): void {
    if (!this.done) this.resumeFn?.();
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.aborted) abort(new undiciErrors.RequestAbortedError());
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void): boolean {
    // 1xx informational answers: the real one follows.
    if (statusCode < 200) return true;
    this.resumeFn = resume;
    this.owner.upstreamHeaders(this, statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.owner.upstreamData(this, chunk);
  }

  onComplete(): void {
    this.done = true;
    this.owner.upstreamComplete(this);
  }

  onError(err: Error): void {
    this.done = true;
    queueMicrotask(() => this.owner.upstreamError(this, err));
  }

  /** A whole body as text, as undici's `body.text()` reads it: UTF-8, a leading byte order mark skipped. */
  bodyText(): string {
    const chunks = this.chunks;
    this.chunks = NONE;
    if (chunks.length === 0 || this.size === 0) return '';
    const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size);
    const start = buf.length > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    return buf.toString('utf8', start);
  }
}

function onTryTimeout(a: Attempt): void {
  a.timedOut = true;
  a.abort();
}

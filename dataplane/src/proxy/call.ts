/**
 * One proxied request: the try loop (backend choice, retries, fallback, backoff, Retry-After, timeouts),
 * the upstream exchange over undici, and the response or stream back to the client. Translation is the
 * providers' (pure); this file only moves bytes, keeps time and decides what to try next.
 */
import type { ServerResponse } from 'node:http';
import { type Dispatcher, errors as undiciErrors, util as undiciUtil } from 'undici';
import type { ApiKeyConfig, ProviderConfig, RetryCondition } from '../../../contract/gateway-config.js';
import { type ClientFormat, GatewayError, renderError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AttemptInfo, AttemptOutcome, RequestObserver } from '../pipeline/hooks.js';
import { clientBodyText } from '../providers/index.js';
import type {
  Operation,
  ProviderAdapter,
  ResponseTranslator,
  StreamDecoder,
  StreamTranslator,
  TranslatorFactory,
  Usage,
} from '../providers/types.js';
import type { HealthRegistry } from '../routing/health.js';
import { backoffMs, parseRetryAfter, pickBackend } from '../routing/select.js';
import type { CompiledBackend, CompiledRoute } from '../routing/table.js';
import { formatSse, SseParser } from '../sse/sse.js';
import { resolveCredential } from './credentials.js';
import type { UpstreamPools } from './upstream.js';

/** Where the proxy gets adapters and translators (the providers folder; tests may pass their own). */
export interface ProviderRegistry {
  adapterFor(type: ProviderConfig['type']): ProviderAdapter;
  translatorFor: TranslatorFactory;
}

/** Per-gateway state every call shares. */
export interface CallShared {
  readonly pools: UpstreamPools;
  readonly providers: ProviderRegistry;
  readonly health: HealthRegistry;
  readonly random: () => number;
  readonly logger: Logger;
  /** Keep the completion text of every answer for the hooks (content logging), not only when usage is missing. */
  readonly keepOutputText: boolean;
}

/** A request that passed auth, validation, routing and admission. */
export interface RoutedRequest {
  readonly format: ClientFormat;
  readonly operation: Operation;
  readonly body: Record<string, unknown>;
  readonly model: string;
  readonly stream: boolean;
  readonly clientWantsUsage: boolean;
  readonly route: CompiledRoute;
  readonly key: ApiKeyConfig | undefined;
  /** The admission's observer; set by `admitted()` when the call was made before the admission ended. */
  observer: RequestObserver;
  readonly startedAt: number;
  /** Allow-listed client headers for the adapter (providers' forwardedClientHeaders); absent: none. */
  readonly clientHeaders?: Readonly<Record<string, string>> | undefined;
}

/** A try that failed before anything reached the client. */
interface Failure {
  readonly error: GatewayError;
  /** The retry.on condition it falls under; undefined: never retried. */
  readonly condition: RetryCondition | undefined;
  readonly retryAfterMs: number | undefined;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const SSE_HEADERS = 'text/event-stream; charset=utf-8';
const JSON_HEADERS = 'application/json';

/**
 * One upstream try, as undici's dispatch handler: `pool.dispatch` with it instead of `pool.request` makes
 * no promise, no request handler with a signal listener and no response Readable per try; status, chunks
 * and the end come straight from undici's parser to the call. The call reads only the try it is waiting on
 * (`ProxyCall.cur`): callbacks of a try it has let go of are dropped. Errors are handed over in a microtask,
 * as undici's request API did, so `abort()` never re-enters the call.
 */
class UpstreamTry implements Dispatcher.DispatchHandler {
  /** Set once the response ended (nothing left to cancel) or failed. */
  done = false;
  private aborted = false;
  private abortFn: ((err?: Error) => void) | undefined;
  private resumeFn: (() => void) | undefined;

  constructor(private readonly call: ProxyCall) {}

  /** Cancels the try: the request and its connection are torn down, and the call gets the error. */
  abort(): void {
    if (this.aborted) return;
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
    this.call.upstreamHeaders(this, statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.call.upstreamData(this, chunk);
  }

  onComplete(): void {
    this.done = true;
    this.call.upstreamComplete(this);
  }

  onError(err: Error): void {
    this.done = true;
    queueMicrotask(() => this.call.upstreamError(this, err));
  }
}

function errCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
  if (e.cause && typeof e.cause.code === 'string') return e.cause.code;
  return typeof e.code === 'string' ? e.code : undefined;
}

/** Where a response keeps the call that serves it, for endForShutdown (one property write per call). */
const CALL = Symbol('tollgate.call');

/**
 * Shutdown hook (server/listener.ts onGraceEnd): the grace is over, so the call serving `res` ends in the
 * client's format (a stream with an error event, recorded as `shutting_down`, not as a client abort).
 */
export function endForShutdown(res: ServerResponse): void {
  (res as unknown as { [CALL]?: ProxyCall })[CALL]?.shutdown();
}

export class ProxyCall {
  private shuttingDown = false;
  private attempts = 0;
  private tried = 0;
  private backend: CompiledBackend | undefined;
  private upstreamModel: string | undefined;
  private backendLabel: string | undefined;
  /** The try a client disconnect or the timer cancels; cleared once the exchange needs no cancelling. */
  private ac: UpstreamTry | undefined;
  /** The try whose response is being waited on or read. */
  private cur: UpstreamTry | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  private clientGone = false;
  /** Response headers went to the client (for streams: the first event too). */
  private started = false;
  private finished = false;
  private firstByteAt: number | undefined;
  private usage: Usage | undefined;
  /** The response's completion text, when it reported no usage (for estimation). */
  private outputText: string | undefined;
  private responseModel: string | undefined;
  // State of the current try's response (one try at a time).
  private translator: ResponseTranslator | undefined;
  private adapter: ProviderAdapter | undefined;
  /** The response's status; 0 until its headers came. */
  private upStatus = 0;
  private upHeaders: Buffer[] | undefined;
  /** A body read whole (non-streaming answers, and every non-2xx answer). */
  private chunks: Buffer[] | undefined;
  private size = 0;
  /** The response is a stream translated event by event (a 2xx answer to a streaming request). */
  private streaming = false;
  /** Reading the upstream is paused until the client drains what was written. */
  private paused = false;
  private st: StreamTranslator | undefined;
  private parser: StreamDecoder | undefined;
  private attemptInfo: AttemptInfo | undefined;
  /** Made on the first pause (calls whose client keeps up never need it). */
  private drainHandler: (() => void) | undefined;
  private settle: ((f: Failure | undefined) => void) | undefined;
  private reject: ((err: unknown) => void) | undefined;
  /** Epoch seconds read once per request, for `created` of synthesized OpenAI objects (translation stays pure). */
  private readonly now = Math.floor(Date.now() / 1000);

  constructor(
    private readonly shared: CallShared,
    private readonly res: ServerResponse,
    private readonly r: RoutedRequest,
  ) {
    res.once('close', this.onClose);
    (res as unknown as { [CALL]?: ProxyCall })[CALL] = this;
  }

  /** See endForShutdown: the running try is cancelled and classified as shutting_down. */
  shutdown(): void {
    this.shuttingDown = true;
    this.ac?.abort();
  }

  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.ac?.abort();
  };

  /** The try's timer fired (module-level callback + argument: no closure per request). */
  timeout(): void {
    this.timer = undefined;
    this.timedOut = true;
    this.ac?.abort();
  }

  /** The admission ended (the call was made while it was under way, to see the client leave). */
  admitted(observer: RequestObserver): void {
    this.r.observer = observer;
  }

  async run(): Promise<void> {
    // The client left while the admission was under way: no upstream call (the provider would bill it).
    if (this.clientGone) return this.fail(new GatewayError('upstream_error', 'client closed the request'));
    const route = this.r.route;
    const retry = route.config.retry;
    const deadline = this.r.startedAt + route.config.timeoutMs;
    const { health, random } = this.shared;
    let next = pickBackend(route, 0, health.now(), random);
    if (next === undefined) {
      this.fail(new GatewayError('no_healthy_backend', `route ${route.id} has no backend it can use`));
      return;
    }
    for (;;) {
      const b: CompiledBackend = next;
      const f = await this.attempt(b, deadline);
      if (f === undefined || this.finished) return;
      if (this.clientGone) return this.fail(f.error);
      if (this.attempts >= retry.attempts || f.condition === undefined || !retry.on.includes(f.condition))
        return this.fail(f.error);
      const remaining = deadline - performance.now();
      next = pickBackend(route, this.tried, health.now(), random);
      if (next === undefined) return this.fail(f.error);
      let delay: number;
      if (next === b && f.retryAfterMs !== undefined) {
        // The same backend asked us to wait: honour it when it fits the budget, else give up now.
        if (f.retryAfterMs >= remaining) return this.fail(f.error);
        delay = f.retryAfterMs;
      } else delay = backoffMs(retry, this.attempts, random);
      if (delay >= remaining) return this.fail(f.error);
      if (delay > 0) await sleep(delay);
      if (this.clientGone) return this.fail(f.error);
    }
  }

  /** One try. Undefined: the call is finished (answered, or a stream ended after its first byte). */
  private async attempt(b: CompiledBackend, deadline: number): Promise<Failure | undefined> {
    const r = this.r;
    const { providers, pools } = this.shared;
    const provider = b.provider;
    const model = b.model ?? r.model;
    // Static keys resolve synchronously; a vertex-ai service-account key may need a token exchange first.
    const resolved = resolveCredential(provider);
    let credential: string | undefined;
    if (typeof resolved === 'object') {
      try {
        credential = await resolved;
      } catch (err) {
        return this.credentialFailed(b, model, err);
      }
      if (this.clientGone)
        return {
          error: new GatewayError('upstream_error', 'client closed the request'),
          condition: undefined,
          retryAfterMs: undefined,
        };
    } else credential = resolved;
    let upstream: { url: string; headers: Record<string, string>; body: string };
    let translator: ReturnType<TranslatorFactory>;
    let adapter: ProviderAdapter;
    try {
      adapter = providers.adapterFor(provider.type);
      upstream = adapter.buildRequest({
        provider,
        operation: r.operation,
        clientFormat: r.format,
        body: r.body,
        upstreamModel: model,
        stream: r.stream,
        clientHeaders: r.clientHeaders,
        credential,
        now: Math.floor(Date.now() / 1000),
      });
      translator = providers.translatorFor(r.format, adapter.wireFor?.(model) ?? adapter.wire, r.operation);
    } catch (err) {
      // A parameter the target cannot take (or a provider type not supported): the client's fault, never retried.
      return { error: asGatewayError(err), condition: undefined, retryAfterMs: undefined };
    }
    const target = pools.target(provider.id);
    if (target === undefined)
      return {
        error: new GatewayError('internal', `provider ${provider.name} has no upstream pool`),
        condition: undefined,
        retryAfterMs: undefined,
      };
    this.attempts++;
    this.tried |= 1 << b.index;
    this.backend = b;
    this.upstreamModel = model;
    const label = b.label ?? `${provider.name}/${model}`;
    this.backendLabel = label;
    const a: AttemptInfo = {
      attempt: this.attempts,
      provider,
      upstreamModel: model,
      backend: label,
      startedAt: performance.now(),
    };
    const extraHeaders = this.hookAttemptStart(a);
    if (extraHeaders) Object.assign(upstream.headers, extraHeaders);
    const remaining = deadline - a.startedAt;
    if (remaining <= 0) {
      return this.tryFailed(a, 'timeout', undefined, this.timeoutError(provider), 'timeout', undefined);
    }
    const up = new UpstreamTry(this);
    this.ac = up;
    this.timedOut = false;
    this.timer = setTimeout(onTryTimeout, Math.min(provider.requestTimeoutMs, remaining), this);
    const url = upstream.url;
    const path = url.startsWith(target.origin) ? url.slice(target.origin.length) : pathOf(url);
    this.translator = translator;
    this.adapter = adapter;
    this.attemptInfo = a;
    this.upStatus = 0;
    this.upHeaders = undefined;
    this.chunks = undefined;
    this.size = 0;
    this.streaming = false;
    this.paused = false;
    return new Promise<Failure | undefined>((resolve, reject) => {
      this.cur = up;
      this.settle = resolve;
      this.reject = reject;
      // Failures, synchronous ones included, come back through up.onError.
      target.pool.dispatch({ path, method: 'POST', headers: upstream.headers, body: upstream.body }, up);
    });
  }

  // ─── the upstream response (UpstreamTry's callbacks) ──────────────────────────────────────────────

  /** @internal The response's status and headers. */
  upstreamHeaders(up: UpstreamTry, status: number, headers: Buffer[]): void {
    if (up !== this.cur) return;
    this.upStatus = status;
    const r = this.r;
    if (status >= 200 && status < 300 && r.stream) {
      let st: StreamTranslator;
      try {
        st = this.translator!.stream({ clientWantsUsage: r.clientWantsUsage, clientModel: r.model, now: this.now });
      } catch (err) {
        // A translator that cannot stream: an internal error, as any exception in the try.
        up.abort();
        this.clearTimer();
        this.rejectTry(err);
        return;
      }
      this.st = st;
      this.parser = this.adapter!.streamDecoder?.() ?? new SseParser();
      this.streaming = true;
    } else {
      this.upHeaders = headers;
      this.chunks = [];
    }
  }

  /** @internal A chunk of the response; false pauses reading until the client drained what was written. */
  upstreamData(up: UpstreamTry, chunk: Buffer): boolean {
    if (up !== this.cur) return true;
    if (this.streaming) {
      this.onData(chunk);
      return !this.paused;
    }
    this.chunks!.push(chunk);
    this.size += chunk.length;
    return true;
  }

  /** @internal The response ended. */
  upstreamComplete(up: UpstreamTry): void {
    if (up !== this.cur) return;
    if (this.streaming) {
      this.onEnd();
      return;
    }
    const text = decodeBody(this.chunks!, this.size);
    this.chunks = undefined;
    const status = this.upStatus;
    let f: Failure | undefined;
    try {
      f = status < 200 || status >= 300 ? this.refused(status, text) : this.answer(text);
    } catch (err) {
      this.rejectTry(err);
      return;
    }
    this.endTry()(f);
  }

  /** The call is done with the current try: later callbacks of it are dropped. Returns its promise's resolve. */
  private endTry(): (f: Failure | undefined) => void {
    const settle = this.settle!;
    this.settle = undefined;
    this.reject = undefined;
    this.cur = undefined;
    return settle;
  }

  /**
   * The gateway's own code threw while handling the answer: the try's promise rejects, as an exception in an
   * awaited try did, and run()'s caller fails the call with a 500 (not a retried upstream failure).
   */
  private rejectTry(err: unknown): void {
    const reject = this.reject!;
    this.endTry();
    reject(err);
  }

  /** @internal The exchange failed (connection, reset, abort): before the headers, or while reading the body. */
  upstreamError(up: UpstreamTry, err: Error): void {
    if (up !== this.cur) return;
    if (this.streaming) {
      this.onBodyError(err);
      return;
    }
    this.chunks = undefined;
    this.endTry()(this.transportFailed(this.attemptInfo!, err, this.upStatus !== 0));
  }

  /** A non-2xx answer, read whole: the coded error and whether (and when) to try again. */
  private refused(status: number, text: string): Failure {
    this.clearTimer();
    const a = this.attemptInfo!;
    const provider = a.provider;
    const headers = undiciUtil.parseHeaders(this.upHeaders!) as Record<string, string | string[] | undefined>;
    this.upHeaders = undefined;
    let error: GatewayError;
    try {
      error = this.translator!.error(status, text, headers, { provider: provider.id });
    } catch (err) {
      error = new GatewayError('upstream_error', `provider ${provider.name} answered ${status}`, { cause: err });
    }
    // Retry by what the answer means, not its raw status: a 401/403 (the provider refused the gateway's
    // credential) is mapped to a 502 and fails over like a 5xx; other 4xx are the request's fault.
    const condition: RetryCondition | undefined =
      status === 429 ? '429' : status >= 500 || error.status >= 500 ? '5xx' : undefined;
    const outcome: AttemptOutcome = status === 429 ? 'http_429' : status >= 500 ? 'http_5xx' : 'http_4xx';
    const retryAfterMs =
      status === 429 || status === 503 ? parseRetryAfter(headers['retry-after'], Date.now()) : undefined;
    return this.tryFailed(a, outcome, status, error, condition, retryAfterMs);
  }

  /** A 2xx answer to a non-streaming request, read whole: translated and sent to the client. */
  private answer(text: string): Failure | undefined {
    this.clearTimer();
    const r = this.r;
    const a = this.attemptInfo!;
    const status = this.upStatus;
    let out: ReturnType<ResponseTranslator['response']>;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      out = this.translator!.response(parsed, { now: this.now, model: r.model, request: r.body });
    } catch (err) {
      const error =
        err instanceof GatewayError
          ? err
          : new GatewayError(
              'upstream_bad_response',
              `provider ${a.provider.name} returned a body that is not valid JSON`,
              {
                cause: err,
              },
            );
      return this.tryFailed(a, 'bad_response', status, error, '5xx', undefined);
    }
    this.backend!.health.success();
    this.hookAttemptEnd(a, 'ok', status);
    this.usage = out.usage;
    this.outputText = out.outputText;
    this.responseModel = out.responseModel;
    if (this.clientGone) {
      this.finish(499, undefined);
      return undefined;
    }
    // A same-format translator hands back the very object it was given (translators are pure: they build
    // new objects, never edit their input), so the upstream's own bytes are the answer: no re-serialising.
    const payload = out.body === parsed ? text : JSON.stringify(out.body);
    const res = this.res;
    this.writeHeaders(200, JSON_HEADERS);
    res.setHeader('content-length', Buffer.byteLength(payload));
    res.end(payload);
    this.markFirstByte();
    // Translators build the text only when usage is missing; content logging wants it always.
    if (this.outputText === undefined && this.shared.keepOutputText)
      this.outputText = clientBodyText(r.format, out.body);
    this.finish(200, undefined);
    return undefined;
  }

  // ─── streaming ────────────────────────────────────────────────────────────────────────────────────

  private onData(chunk: Buffer): void {
    if (this.settle === undefined) return;
    // A decoder may throw on garbage (StreamDecoder's contract); inside a socket listener that would be
    // an uncaught exception, so it fails this stream instead.
    let events: ReturnType<StreamDecoder['push']>;
    try {
      events = this.parser!.push(chunk);
    } catch (err) {
      this.streamFailed('bad_response', decodeError(err), '5xx', '');
      return;
    }
    this.translateEvents(events);
  }

  /** Translates and writes; returns false when the stream was ended (failure). */
  private translateEvents(events: ReturnType<SseParser['push']>): boolean {
    const st = this.st!;
    let out = '';
    for (let i = 0; i < events.length; i++) {
      let outs: ReturnType<StreamTranslator['event']>;
      try {
        outs = st.event(events[i]!);
      } catch (err) {
        const error =
          err instanceof GatewayError
            ? err
            : new GatewayError('upstream_bad_response', 'provider sent an invalid stream event', { cause: err });
        this.streamFailed('bad_response', error, '5xx', out);
        return false;
      }
      for (let j = 0; j < outs.length; j++) out += formatSse(outs[j]!);
      const upstreamErr = st.error;
      if (upstreamErr !== undefined && !this.started) {
        // An error event before anything reached the client: a failed try like any other.
        const s = upstreamErr.status;
        this.streamFailed(
          s === 429 ? 'http_429' : s >= 500 ? 'http_5xx' : 'http_4xx',
          upstreamErr,
          s === 429 ? '429' : s >= 500 ? '5xx' : undefined,
          '',
        );
        return false;
      }
    }
    if (out.length > 0) this.writeChunk(out);
    return true;
  }

  private writeChunk(out: string): void {
    if (this.clientGone) return;
    if (!this.started) {
      // No flushHeaders(): the first write carries the headers and the first event in one packet.
      this.writeHeaders(200, SSE_HEADERS);
      this.markFirstByte();
    }
    if (!this.res.write(out) && !this.paused) {
      this.paused = true;
      this.drainHandler ??= () => this.onDrain();
      this.res.once('drain', this.drainHandler);
    }
  }

  private onDrain(): void {
    if (!this.paused) return;
    this.paused = false;
    this.cur?.resume();
  }

  private onEnd(): void {
    if (this.settle === undefined) return;
    // Bytes of an unfinished event at the end: the stream was cut mid-event, not a valid last event.
    const cut = this.parser!.pending;
    if (!cut) {
      let last: ReturnType<StreamDecoder['end']>;
      try {
        last = this.parser!.end();
      } catch (err) {
        this.streamFailed('bad_response', decodeError(err), '5xx', '');
        return;
      }
      if (!this.translateEvents(last)) return;
    }
    const st = this.st!;
    if (cut || !st.done) {
      this.streamFailed(
        'bad_response',
        new GatewayError('upstream_bad_response', 'provider stream ended before its final event'),
        '5xx',
        '',
      );
      return;
    }
    let tail = '';
    try {
      const outs = st.end();
      for (let j = 0; j < outs.length; j++) tail += formatSse(outs[j]!);
    } catch (err) {
      this.streamFailed('bad_response', asGatewayError(err), '5xx', '');
      return;
    }
    this.clearTimer();
    const a = this.attemptInfo!;
    const upstreamErr = st.error;
    if (upstreamErr === undefined) {
      this.backend!.health.success();
      this.hookAttemptEnd(a, 'ok', 200);
    } else {
      if (upstreamErr.status >= 500) this.backend!.health.failure();
      this.hookAttemptEnd(a, upstreamErr.status === 429 ? 'http_429' : 'http_5xx', 200);
    }
    this.usage = st.usage();
    this.responseModel = st.responseModel();
    if (tail.length > 0) this.writeChunk(tail);
    if (!this.started && !this.clientGone) {
      // A clean stream that produced no event at all: still answer with an (empty) event stream.
      this.writeHeaders(200, SSE_HEADERS);
      this.markFirstByte();
    }
    this.res.end();
    const settle = this.releaseStream();
    this.finish(this.clientGone ? 499 : 200, upstreamErr?.code);
    settle(undefined);
  }

  private onBodyError(err: unknown): void {
    if (this.settle === undefined) return;
    const [outcome, error, condition] = this.classify(err, true);
    this.streamFailed(outcome, error, condition, '');
  }

  /** Ends a stream try that failed: before the first byte it can be retried, after it the client gets an error event. */
  private streamFailed(
    outcome: AttemptOutcome,
    error: GatewayError,
    condition: RetryCondition | undefined,
    pending: string,
  ): void {
    const a = this.attemptInfo!;
    const settle = this.releaseStream();
    if (!this.started) {
      settle(this.tryFailed(a, outcome, 200, error, condition, undefined));
      return;
    }
    this.clearTimer();
    if (outcome !== 'aborted') this.backend!.health.failure();
    this.hookAttemptEnd(a, outcome, 200);
    if (!this.clientGone) {
      this.res.end(`${pending}${this.errorEvent(error)}`);
    }
    this.finish(this.clientGone ? 499 : 200, error.code);
    settle(undefined);
  }

  private errorEvent(error: GatewayError): string {
    const data = renderError(error, this.r.format).body;
    return this.r.format === 'anthropic' ? `event: error\ndata: ${data}\n\n` : `data: ${data}\n\n`;
  }

  /** Ends the stream's try (see endTry) and returns its promise's resolve. */
  private releaseStream(): (f: Failure | undefined) => void {
    const up = this.cur;
    const settle = this.endTry();
    // A stream let go of before its end: cancel it (the connection is closed, not reused mid-response).
    if (up !== undefined && !up.done) up.abort();
    this.streaming = false;
    this.paused = false;
    this.parser = undefined;
    return settle;
  }

  // ─── failures ─────────────────────────────────────────────────────────────────────────────────────

  /** The provider's credential could not be had (token endpoint down or refusing): a failed try, failed over like a 5xx. */
  private credentialFailed(b: CompiledBackend, model: string, err: unknown): Failure {
    this.attempts++;
    this.tried |= 1 << b.index;
    this.backend = b;
    this.upstreamModel = model;
    const label = b.label ?? `${b.provider.name}/${model}`;
    this.backendLabel = label;
    const a: AttemptInfo = {
      attempt: this.attempts,
      provider: b.provider,
      upstreamModel: model,
      backend: label,
      startedAt: performance.now(),
    };
    this.hookAttemptStart(a);
    return this.tryFailed(a, 'http_5xx', undefined, asGatewayError(err), '5xx', undefined);
  }

  private transportFailed(a: AttemptInfo, err: unknown, afterHeaders: boolean): Failure | undefined {
    const [outcome, error, condition] = this.classify(err, afterHeaders);
    return this.tryFailed(a, outcome, undefined, error, condition, undefined);
  }

  private classify(err: unknown, afterHeaders: boolean): [AttemptOutcome, GatewayError, RetryCondition | undefined] {
    const name = this.backend!.provider.name;
    if (this.shuttingDown)
      return ['aborted', new GatewayError('shutting_down', 'the gateway is shutting down', { cause: err }), undefined];
    if (this.timedOut) return ['timeout', this.timeoutError(this.backend!.provider), 'timeout'];
    if (this.clientGone)
      return ['aborted', new GatewayError('upstream_error', 'client closed the request', { cause: err }), undefined];
    const code = errCode(err);
    if (!afterHeaders && code !== undefined && CONNECT_CODES.has(code))
      return [
        'connect_failure',
        new GatewayError('upstream_unavailable', `could not connect to provider ${name} (${code})`, { cause: err }),
        'connect-failure',
      ];
    return [
      'reset',
      new GatewayError('upstream_error', `connection to provider ${name} failed (${code ?? 'reset'})`, { cause: err }),
      '5xx',
    ];
  }

  private timeoutError(provider: ProviderConfig): GatewayError {
    return new GatewayError('upstream_timeout', `provider ${provider.name} did not answer in time`);
  }

  private tryFailed(
    a: AttemptInfo,
    outcome: AttemptOutcome,
    status: number | undefined,
    error: GatewayError,
    condition: RetryCondition | undefined,
    retryAfterMs: number | undefined,
  ): Failure {
    this.clearTimer();
    // Passive health counts backend trouble: not the client going away, not 429, not a 4xx caused by the
    // request; a rejected credential (a 4xx retried as 5xx) is backend trouble.
    if (outcome !== 'aborted' && outcome !== 'http_429' && (outcome !== 'http_4xx' || condition === '5xx'))
      this.backend!.health.failure();
    this.hookAttemptEnd(a, outcome, status);
    return { error, condition, retryAfterMs };
  }

  /** Answers with an error (nothing was sent yet). */
  fail(error: GatewayError): void {
    if (this.finished) return;
    if (this.clientGone || this.res.headersSent) {
      if (!this.res.writableEnded) this.res.end();
      this.finish(this.clientGone ? 499 : error.status, error.code);
      return;
    }
    const rendered = renderError(error, this.r.format);
    const res = this.res;
    res.statusCode = rendered.status;
    const h = rendered.headers;
    for (const k in h) res.setHeader(k, h[k]!);
    this.setTollgateHeaders();
    res.setHeader('content-length', Buffer.byteLength(rendered.body));
    res.end(rendered.body);
    this.finish(rendered.status, error.code);
  }

  // ─── output helpers ───────────────────────────────────────────────────────────────────────────────

  private writeHeaders(status: number, contentType: string): void {
    const res = this.res;
    res.statusCode = status;
    res.setHeader('content-type', contentType);
    if (contentType === SSE_HEADERS) {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-accel-buffering', 'no');
    }
    this.setTollgateHeaders();
    this.started = true;
  }

  private setTollgateHeaders(): void {
    const res = this.res;
    res.setHeader('x-tollgate-route', this.r.route.id);
    if (this.backendLabel !== undefined) res.setHeader('x-tollgate-backend', headerSafe(this.backendLabel));
    res.setHeader('x-tollgate-attempts', String(this.attempts));
    const extra = this.r.observer.headers;
    if (extra !== undefined) for (const k in extra) res.setHeader(k, extra[k]!);
  }

  private markFirstByte(): void {
    const at = performance.now();
    this.firstByteAt = at;
    try {
      this.r.observer.firstByte(at);
    } catch (err) {
      this.shared.logger.warn('hook firstByte threw', { err });
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.ac = undefined;
  }

  private hookAttemptStart(a: AttemptInfo): Readonly<Record<string, string>> | undefined {
    try {
      this.r.observer.attemptStart(a);
      return this.r.observer.upstreamHeaders?.(a);
    } catch (err) {
      this.shared.logger.warn('hook attemptStart threw', { err });
      return undefined;
    }
  }

  private hookAttemptEnd(a: AttemptInfo, outcome: AttemptOutcome, status: number | undefined): void {
    try {
      this.r.observer.attemptEnd(a, { outcome, status, endedAt: performance.now() });
    } catch (err) {
      this.shared.logger.warn('hook attemptEnd threw', { err });
    }
  }

  private finish(status: number, errorCode: GatewayError['code'] | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.res.off('close', this.onClose);
    const b = this.backend;
    try {
      this.r.observer.finish({
        status,
        errorCode,
        usage: this.usage,
        // Joined only when the provider reported no usage (accounting then estimates from it), or when
        // content logging asked for it.
        outputText:
          this.usage === undefined || this.shared.keepOutputText
            ? (this.outputText ?? this.st?.outputText?.())
            : undefined,
        responseModel: this.responseModel,
        attempts: this.attempts,
        route: this.r.route.config,
        provider: b?.provider,
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

function onTryTimeout(call: ProxyCall): void {
  call.timeout();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

/** A whole body as text, as undici's `body.text()` reads it: UTF-8, a leading byte order mark skipped. */
function decodeBody(chunks: Buffer[], size: number): string {
  if (chunks.length === 0 || size === 0) return '';
  const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  const start = buf.length > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return buf.toString('utf8', start);
}

/** A stream decoder's failure: the provider's bytes could not be framed into events. */
function decodeError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('upstream_bad_response', 'provider sent a stream that could not be decoded', { cause: err });
}

function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (isStackOverflow(err)) return tooDeep(err);
  return new GatewayError('internal', 'internal error', { cause: err });
}

/** JSON.parse copes with any depth, but serializing or translating a very deeply nested body overflows the stack. */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && err.message.includes('call stack');
}

/** The client's body was nested too deeply to forward: its fault, a 400. */
export function tooDeep(cause: unknown): GatewayError {
  return new GatewayError('invalid_request', 'request body is nested too deeply', { cause });
}

/** Visible ASCII and spaces: what every HTTP client reads in a header value as is. */
const PLAIN_HEADER_VALUE = /^[\x20-\x7e]*$/;

/**
 * A header value Node accepts from a name the client chose (a prefix route passes the model through): bytes
 * outside visible ASCII are percent-encoded as UTF-8 (`gpt-模型` → `gpt-%E6%A8%A1%E5%9E%8B`). Node throws on
 * anything above U+00FF and on control characters.
 */
export function headerSafe(value: string): string {
  if (PLAIN_HEADER_VALUE.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c <= 0x7e) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * One proxied request, the state machine that ties the parts together: the try loop (nextStep decides,
 * the call sleeps and tries), the upstream exchange (Attempt, one per try), the stream relay and the client
 * writer. What a failure means is classify.ts's table, what to try next is next-step.ts, translation is the
 * providers' (pure); this file only moves bytes, keeps time and reports to the hooks. (ADR 0040)
 */
import type { ServerResponse } from 'node:http';
import { util as undiciUtil } from 'undici';
import { GatewayError } from '../errors.js';
import type { AttemptInfo, RequestObserver } from '../pipeline/hooks.js';
import { endWithBody, errorEvent, JSON_CONTENT_TYPE, SSE_CONTENT_TYPE } from '../pipeline/respond.js';
import { clientBodyText } from '../providers/index.js';
import type { ProviderAdapter, ResponseTranslator, StreamTranslator } from '../providers/types.js';
import { pickBackend } from '../routing/select.js';
import type { CompiledBackend } from '../routing/table.js';
import { SseParser } from '../sse/sse.js';
import { Attempt, type AttemptOwner, type Failure } from './attempt.js';
import { CallReport } from './call-report.js';
import {
  asGatewayError,
  errCode,
  FAILURES,
  type FailureKind,
  httpFailure,
  retryAfterMs,
  timeoutError,
  transportError,
  transportFailure,
} from './classify.js';
import { resolveCredential } from './credentials.js';
import { nextStep } from './next-step.js';
import { StreamFault, StreamRelay } from './stream-relay.js';
import type { CallShared, RoutedRequest } from './types.js';

export { headerSafe } from '../pipeline/respond.js';
export { isStackOverflow, tooDeep } from './classify.js';
export type { CallShared, ProviderRegistry, RoutedRequest } from './types.js';

const clientClosed = (): Failure => ({
  error: new GatewayError('upstream_error', 'client closed the request'),
  condition: undefined,
  retryAfterMs: undefined,
});

/** Where a response keeps the call that serves it, for endForShutdown (one property write per call). */
const CALL = Symbol('tollgate.call');

/**
 * Shutdown hook (server/listener.ts onGraceEnd): the grace is over, so the call serving `res` ends in the
 * client's format (a stream with an error event, recorded as `shutting_down`, not as a client abort).
 */
export function endForShutdown(res: ServerResponse): void {
  (res as unknown as { [CALL]?: ProxyCall })[CALL]?.shutdown();
}

export class ProxyCall extends CallReport implements AttemptOwner {
  /** The try whose response is being waited on or read; a client disconnect cancels it. */
  private cur: Attempt | undefined;
  private shuttingDown = false;
  /** Made on the first pause (calls whose client keeps up never need it). */
  private drainHandler: (() => void) | undefined;
  /** Epoch seconds read once per request, for `created` of synthesized OpenAI objects (translation stays pure). */
  private readonly now = Math.floor(Date.now() / 1000);

  constructor(shared: CallShared, res: ServerResponse, r: RoutedRequest) {
    super(shared, res, r);
    res.once('close', this.onClose);
    (res as unknown as { [CALL]?: ProxyCall })[CALL] = this;
  }

  /** See endForShutdown: the running try is cancelled and classified as shutting_down. */
  shutdown(): void {
    this.shuttingDown = true;
    this.cur?.abort();
  }

  protected readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.cur?.abort();
  };

  /** The admission ended (the call was made while it was under way, to see the client leave). */
  admitted(observer: RequestObserver): void {
    this.r.observer = observer;
  }

  async run(): Promise<void> {
    // The client left while the admission was under way: no upstream call (the provider would bill it).
    if (this.clientGone) return this.fail(new GatewayError('upstream_error', 'client closed the request'));
    const r = this.r;
    const route = r.route;
    const deadline = r.startedAt + route.config.timeoutMs;
    const { health, random } = this.shared;
    let b = pickBackend(route, 0, health.now(), random);
    if (b === undefined) {
      this.fail(new GatewayError('no_healthy_backend', `route ${route.id} has no backend it can use`));
      return;
    }
    for (;;) {
      const f = await this.attempt(b, deadline);
      if (f === undefined || this.finished) return;
      if (this.clientGone) return this.fail(f.error);
      const remaining = deadline - performance.now();
      const step = nextStep(route, f, this.attempts, this.tried, b, remaining, health.now(), random);
      if (step === undefined) return this.fail(f.error);
      b = step.backend;
      if (step.delayMs > 0) await sleep(step.delayMs);
      if (this.clientGone) return this.fail(f.error);
    }
  }

  /** One try. Undefined: the call is finished (answered, or a stream ended after its first byte). */
  private async attempt(b: CompiledBackend, deadline: number): Promise<Failure | undefined> {
    const r = this.r;
    const { providers, pools } = this.shared;
    const provider = b.provider;
    const model = b.model ?? r.model;
    // Passive health ignores failures of tries that started before the backend's latest ejection.
    const healthEpoch = b.health.epoch;
    // Static keys resolve synchronously; a vertex-ai service-account key may need a token exchange first.
    const resolved = resolveCredential(provider);
    let credential: string | undefined;
    if (typeof resolved === 'object') {
      try {
        credential = await resolved;
      } catch (err) {
        // The provider's credential could not be had: a failed try, failed over like a 5xx.
        const info = this.beginTry(b, model);
        this.hookAttemptStart(info);
        return this.tryFailed(
          b,
          info,
          healthEpoch,
          'credential_unavailable',
          undefined,
          asGatewayError(err),
          undefined,
        );
      }
      if (this.clientGone) return clientClosed();
    } else credential = resolved;
    let upstream: { url: string; headers: Record<string, string>; body: string };
    let translator: ResponseTranslator;
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
    const info = this.beginTry(b, model);
    const extraHeaders = this.hookAttemptStart(info);
    if (extraHeaders) Object.assign(upstream.headers, extraHeaders);
    const remaining = deadline - info.startedAt;
    if (remaining <= 0)
      return this.tryFailed(b, info, healthEpoch, 'timeout', undefined, timeoutError(provider.name), undefined);
    const url = upstream.url;
    const path = url.startsWith(target.origin) ? url.slice(target.origin.length) : pathOf(url);
    const timeoutMs = Math.min(provider.requestTimeoutMs, remaining);
    return new Promise<Failure | undefined>((resolve, reject) => {
      const a = new Attempt(this, b, info, translator, adapter, healthEpoch, timeoutMs, resolve, reject);
      this.cur = a;
      // Failures, synchronous ones included, come back through a.onError.
      target.pool.dispatch({ path, method: 'POST', headers: upstream.headers, body: upstream.body }, a);
    });
  }

  // ─── the upstream response (Attempt's callbacks) ──────────────────────────────────────────────────

  /** @internal The response's status and headers. */
  upstreamHeaders(a: Attempt, status: number, headers: Buffer[]): void {
    if (a !== this.cur) return;
    a.status = status;
    const r = this.r;
    if (status >= 200 && status < 300 && r.stream) {
      let st: StreamTranslator;
      try {
        st = a.translator.stream({ clientWantsUsage: r.clientWantsUsage, clientModel: r.model, now: this.now });
      } catch (err) {
        // A translator that cannot stream: an internal error, as any exception in the try.
        a.abort();
        a.stop();
        this.rejectTry(a, err);
        return;
      }
      this.lastStream = st;
      a.relay = new StreamRelay(st, a.adapter.streamDecoder?.() ?? new SseParser());
    } else {
      a.headers = headers;
      a.chunks = [];
    }
  }

  /** @internal A chunk of the response; false pauses reading until the client drained what was written. */
  upstreamData(a: Attempt, chunk: Buffer): boolean {
    if (a !== this.cur) return true;
    const relay = a.relay;
    if (relay !== undefined) {
      const out = relay.push(chunk, this.started);
      if (out instanceof StreamFault) this.streamFailed(a, out);
      else if (out.length > 0) this.writeChunk(relay, out);
      return !relay.paused;
    }
    a.chunks.push(chunk);
    a.size += chunk.length;
    return true;
  }

  /** @internal The response ended. */
  upstreamComplete(a: Attempt): void {
    if (a !== this.cur) return;
    if (a.relay !== undefined) {
      this.streamEnded(a, a.relay);
      return;
    }
    const text = a.bodyText();
    const status = a.status;
    let f: Failure | undefined;
    try {
      f = status < 200 || status >= 300 ? this.refused(a, status, text) : this.answer(a, text);
    } catch (err) {
      this.rejectTry(a, err);
      return;
    }
    this.endTry(a);
    a.settle(f);
  }

  /** @internal The exchange failed (connection, reset, abort): before the headers, or while reading the body. */
  upstreamError(a: Attempt, err: Error): void {
    if (a !== this.cur) return;
    const code = errCode(err);
    const kind = transportFailure(code, a.timedOut, this.clientGone, a.status !== 0, this.shuttingDown);
    const error = transportError(kind, a.backend.provider.name, code, err);
    if (a.relay !== undefined) {
      this.streamFailed(a, new StreamFault(kind, error, ''));
      return;
    }
    this.endTry(a);
    a.settle(this.attemptFailed(a, kind, undefined, error, undefined));
  }

  /** The call is done with the try: later callbacks of it are dropped. */
  private endTry(a: Attempt): void {
    if (this.cur === a) this.cur = undefined;
  }

  /**
   * The gateway's own code threw while handling the answer: the try's promise rejects, as an exception in an
   * awaited try did, and run()'s caller fails the call with a 500 (not a retried upstream failure).
   */
  private rejectTry(a: Attempt, err: unknown): void {
    this.endTry(a);
    a.reject(err);
  }

  /** A non-2xx answer, read whole: the coded error and whether (and when) to try again. */
  private refused(a: Attempt, status: number, text: string): Failure {
    a.stop();
    const provider = a.backend.provider;
    const headers = undiciUtil.parseHeaders(a.headers) as Record<string, string | string[] | undefined>;
    let error: GatewayError;
    try {
      error = a.translator.error(status, text, headers, { provider: provider.id });
    } catch (err) {
      error = new GatewayError('upstream_error', `provider ${provider.name} answered ${status}`, { cause: err });
    }
    const wait = retryAfterMs(status, headers['retry-after'], Date.now());
    return this.attemptFailed(a, httpFailure(status, error.status), status, error, wait);
  }

  /** A 2xx answer to a non-streaming request, read whole: translated and sent to the client. */
  private answer(a: Attempt, text: string): Failure | undefined {
    a.stop();
    const r = this.r;
    const status = a.status;
    let out: ReturnType<ResponseTranslator['response']>;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      out = a.translator.response(parsed, { now: this.now, model: r.model, request: r.body });
    } catch (err) {
      const error =
        err instanceof GatewayError
          ? err
          : new GatewayError(
              'upstream_bad_response',
              `provider ${a.backend.provider.name} returned a body that is not valid JSON`,
              { cause: err },
            );
      return this.attemptFailed(a, 'bad_response', status, error, undefined);
    }
    a.backend.health.success();
    this.hookAttemptEnd(a.info, 'ok', status);
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
    this.writeHead(JSON_CONTENT_TYPE);
    endWithBody(this.res, payload);
    this.markFirstByte();
    // Translators build the text only when usage is missing; content logging wants it always.
    if (this.outputText === undefined && this.shared.keepOutputText)
      this.outputText = clientBodyText(r.format, out.body);
    this.finish(200, undefined);
    return undefined;
  }

  // ─── streaming ────────────────────────────────────────────────────────────────────────────────────

  private writeChunk(relay: StreamRelay, out: string): void {
    if (this.clientGone) return;
    if (!this.started) {
      // No flushHeaders(): the first write carries the headers and the first event in one packet.
      this.writeHead(SSE_CONTENT_TYPE);
      this.markFirstByte();
    }
    if (!this.res.write(out) && !relay.paused) {
      relay.paused = true;
      this.drainHandler ??= () => this.onDrain();
      this.res.once('drain', this.drainHandler);
    }
  }

  private onDrain(): void {
    const a = this.cur;
    if (a?.relay === undefined || !a.relay.paused) return;
    a.relay.paused = false;
    a.resume();
  }

  private streamEnded(a: Attempt, relay: StreamRelay): void {
    const last = relay.flush(this.started);
    if (last instanceof StreamFault) {
      this.streamFailed(a, last);
      return;
    }
    if (last.length > 0) this.writeChunk(relay, last);
    const tail = relay.close();
    if (tail instanceof StreamFault) {
      this.streamFailed(a, tail);
      return;
    }
    a.stop();
    const st = relay.translator;
    const upstreamErr = st.error;
    if (upstreamErr === undefined) {
      a.backend.health.success();
      this.hookAttemptEnd(a.info, 'ok', 200);
    } else {
      // An error event after the first byte was relayed to the client; the try failed all the same.
      const c = FAILURES[httpFailure(upstreamErr.status, upstreamErr.status)];
      if (c.health) a.backend.health.failure(a.healthEpoch);
      this.hookAttemptEnd(a.info, c.outcome, 200);
    }
    this.usage = st.usage();
    this.responseModel = st.responseModel();
    if (tail.length > 0) this.writeChunk(relay, tail);
    if (!this.started && !this.clientGone) {
      // A clean stream that produced no event at all: still answer with an (empty) event stream.
      this.writeHead(SSE_CONTENT_TYPE);
      this.markFirstByte();
    }
    this.res.end();
    this.releaseStream(a);
    this.finish(this.clientGone ? 499 : 200, upstreamErr?.code);
    a.settle(undefined);
  }

  /** Ends a stream try that failed: before the first byte it can be retried, after it the client gets an error event. */
  private streamFailed(a: Attempt, fault: StreamFault): void {
    this.releaseStream(a);
    if (!this.started) {
      a.settle(this.attemptFailed(a, fault.kind, 200, fault.error, undefined));
      return;
    }
    a.stop();
    const c = FAILURES[fault.kind];
    if (c.health) a.backend.health.failure(a.healthEpoch);
    this.hookAttemptEnd(a.info, c.outcome, 200);
    if (!this.clientGone) this.res.end(`${fault.pending}${errorEvent(fault.error, this.r.format)}`);
    this.finish(this.clientGone ? 499 : 200, fault.error.code);
    a.settle(undefined);
  }

  /** Lets go of a stream's try; one let go of before its end is cancelled (its connection is closed, not reused). */
  private releaseStream(a: Attempt): void {
    this.endTry(a);
    if (!a.done) a.abort();
  }

  // ─── failures ─────────────────────────────────────────────────────────────────────────────────────

  private attemptFailed(
    a: Attempt,
    kind: FailureKind,
    status: number | undefined,
    error: GatewayError,
    wait: number | undefined,
  ): Failure {
    a.stop();
    return this.tryFailed(a.backend, a.info, a.healthEpoch, kind, status, error, wait);
  }

  /** A failed try, classified by the one table: passive health, the hooks, and what run() needs to go on. */
  private tryFailed(
    b: CompiledBackend,
    info: AttemptInfo,
    healthEpoch: number,
    kind: FailureKind,
    status: number | undefined,
    error: GatewayError,
    wait: number | undefined,
  ): Failure {
    const c = FAILURES[kind];
    if (c.health) b.health.failure(healthEpoch);
    this.hookAttemptEnd(info, c.outcome, status);
    return { error, condition: c.retryOn, retryAfterMs: wait };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

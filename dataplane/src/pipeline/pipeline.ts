/**
 * The request path after the endpoint and the key are known (docs/pipeline.md, ADR 0043):
 * read body → the listed stages (parse, route, ...) → admit → attempt loop (proxy/call.ts). Every refusal
 * on the way is answered through the one writer (respond.ts) and reported once to `hooks.rejected`.
 *
 * The runner adds nothing per request: stages are constants, a synchronous stage is a call and a type
 * check, and only a stage that returns a Promise makes the request wait (and allocate its continuation).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ClientFormat, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { forwardedClientHeaders } from '../providers/index.js';
import { type CallShared, isStackOverflow, ProxyCall, tooDeep } from '../proxy/call.js';
import { type Exchange, isRouted, type Known, type RoutedExchange } from './exchange.js';
import type { GatewayHooks, RequestObserver } from './hooks.js';
import { writeError } from './respond.js';
import type { Stage, StageResult } from './stage.js';
import { type AttemptLoop, admit } from './stages/admit.js';
import { type BodyLimits, type BodySink, readBody } from './stages/read-body.js';

export interface PipelineOptions {
  readonly stages: readonly Stage[];
  readonly hooks: GatewayHooks;
  readonly shared: CallShared;
  readonly logger: Logger;
  readonly limits: BodyLimits;
}

const NOTHING_KNOWN: Known = Object.freeze({});

export class Pipeline implements BodySink, AttemptLoop<ProxyCall> {
  private readonly stages: readonly Stage[];
  private readonly hooks: GatewayHooks;
  private readonly shared: CallShared;
  private readonly logger: Logger;
  private readonly limits: BodyLimits;

  constructor(options: PipelineOptions) {
    this.stages = options.stages;
    this.hooks = options.hooks;
    this.shared = options.shared;
    this.logger = options.logger;
    this.limits = options.limits;
  }

  /** Reads x's body, then runs it through the stages. */
  start(x: Exchange): void {
    readBody(x, this.limits, this);
  }

  /** @internal read-body: the whole body is in x.raw. */
  bodyRead(x: Exchange): void {
    this.runFrom(x, 0);
  }

  private runFrom(x: Exchange, from: number): void {
    const stages = this.stages;
    for (let i = from; i < stages.length; i++) {
      let r: StageResult | Promise<StageResult>;
      try {
        r = stages[i]!.run(x);
      } catch (err) {
        this.refuse(x, err);
        return;
      }
      if (r instanceof GatewayError) {
        this.refuse(x, r);
        return;
      }
      if (r instanceof Promise) {
        this.resumeAfter(x, r, i + 1);
        return;
      }
    }
    if (isRouted(x)) admit(x, this.hooks, this);
    else this.refuse(x, new GatewayError('internal', 'internal error: the stage list has no route stage'));
  }

  /** A stage went to I/O: go on when it answers, unless the client left meanwhile (nothing more is done). */
  private resumeAfter(x: Exchange, p: Promise<StageResult>, next: number): void {
    p.then(
      (r) => {
        if (r instanceof GatewayError) this.refuse(x, r);
        else if (x.req.socket.destroyed) this.clientLeft(x);
        else this.runFrom(x, next);
      },
      (err: unknown) => this.refuse(x, err),
    );
  }

  /** @internal admit: a call for the routed exchange, not started yet. */
  prepare(x: RoutedExchange, observer: RequestObserver): ProxyCall {
    return new ProxyCall(this.shared, x.res, {
      format: x.clientFormat,
      operation: x.operation,
      body: x.body,
      model: x.model,
      stream: x.stream,
      clientWantsUsage: x.clientWantsUsage,
      route: x.compiled,
      key: x.key,
      observer,
      startedAt: x.startedAt,
      clientHeaders: forwardedClientHeaders(x.req.headers),
      cache: x.cache,
    });
  }

  /** @internal admit: runs the attempt loop; a call that throws is answered here and never ends the process. */
  launch(call: ProxyCall, x: RoutedExchange): void {
    call.run().catch((err: unknown) => {
      this.logger.error('proxy call failed', { err });
      try {
        call.fail(new GatewayError('internal', 'internal error', { cause: err }));
      } catch (e) {
        // Even the error answer failed: never an unhandled rejection (it would end the process).
        this.logger.error('could not answer a failed call', { err: e });
        x.req.socket.destroy();
      }
    });
  }

  /** Answers x with the refusal and reports it with everything the exchange knows. */
  refuse(x: Exchange, err: unknown): void {
    this.reject(x.req, x.res, x.clientFormat, err, x);
  }

  /** Answers with an error through the one writer and reports the refusal to the hooks with what is known. */
  reject(req: IncomingMessage, res: ServerResponse, format: ClientFormat, err: unknown, known = NOTHING_KNOWN): void {
    const ge = toError(err, this.logger);
    const route = known.compiled;
    if (route !== undefined) {
      res.setHeader('x-tollgate-route', route.id);
      res.setHeader('x-tollgate-attempts', '0');
    }
    writeError(res, format, ge);
    this.report(req, format, ge.status, ge, known);
  }

  /** The client left while a stage was under way: nobody to answer; reported as the attempt loop does (499). */
  private clientLeft(x: Exchange): void {
    this.report(x.req, x.clientFormat, 499, CLIENT_GONE, x);
  }

  private report(req: IncomingMessage, format: ClientFormat, status: number, ge: GatewayError, known: Known): void {
    const traceparent = req.headers.traceparent;
    try {
      this.hooks.rejected({
        clientFormat: format,
        operation: known.operation,
        status,
        errorCode: ge.code,
        route: known.compiled?.config,
        model: known.model,
        key: known.key,
        body: known.body,
        startedAt: known.startedAt ?? performance.now(),
        traceparent: typeof traceparent === 'string' ? traceparent : undefined,
      });
    } catch (e) {
      this.logger.warn('hook rejected threw', { err: e });
    }
  }
}

const CLIENT_GONE = new GatewayError('upstream_error', 'client closed the request');

function toError(err: unknown, logger: Logger): GatewayError {
  if (err instanceof GatewayError) return err;
  if (isStackOverflow(err)) return tooDeep(err);
  logger.error('unexpected error on the request path', { err });
  return new GatewayError('internal', 'internal error', { cause: err });
}

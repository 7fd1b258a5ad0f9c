/**
 * The exchange: the one typed context of a request on its way through the stages (docs/pipeline.md). It is
 * made once the endpoint and the key are known (pipeline/stages/authenticate.ts), filled by each stage in
 * turn, handed to the admission and the observer as their RequestInfo, and reported as what is known of the
 * request when it is refused. One object per request; its fields are set in the constructor so that every
 * exchange has the same shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeyConfig, RouteConfig } from '../../../contract/gateway-config.js';
import type { CacheState } from '../cache/types.js';
import type { ClientFormat } from '../errors.js';
import type { Operation } from '../providers/types.js';
import type { CompiledRoute, NamespaceTable } from '../routing/table.js';
import type { RequestInfo } from './hooks.js';

/** What is known of a request when it is refused (an Exchange, or a frozen constant before there is one). */
export interface Known {
  readonly operation?: Operation | undefined;
  readonly key?: ApiKeyConfig | undefined;
  readonly compiled?: CompiledRoute | undefined;
  readonly model?: string | undefined;
  readonly body?: Readonly<Record<string, unknown>> | undefined;
  /** performance.now() when the request's body arrived; absent: the refusal's time stands in. */
  readonly startedAt?: number | undefined;
}

export class Exchange implements Known {
  // ── known from the endpoint and the authenticate stage ──
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly clientFormat: ClientFormat;
  readonly operation: Operation;
  /** The API key used; undefined in open (keyless) mode. */
  readonly key: ApiKeyConfig | undefined;
  /** The routes the key may use. */
  readonly table: NamespaceTable;
  // ── the body (pipeline/stages/read-body.ts) ──
  /** The request body's bytes, from when they all arrived until the parse stage has read them. */
  raw: Buffer | undefined = undefined;
  /** performance.now() when the whole body had arrived (set by parse; the start for latency and spans). */
  startedAt: number | undefined = undefined;
  // ── parse (pipeline/stages/parse.ts) ──
  /** The client's parsed, validated body. */
  body: Record<string, unknown> | undefined = undefined;
  /** The model the client sent. */
  model: string | undefined = undefined;
  stream = false;
  /** OpenAI `stream_options.include_usage`; Anthropic streams always carry usage. */
  clientWantsUsage = false;
  // ── route (pipeline/stages/route.ts) ──
  compiled: CompiledRoute | undefined = undefined;
  route: RouteConfig | undefined = undefined;
  // ── cache lookup (pipeline/stages/cache-lookup.ts): only on routes with spec.cache ──
  cache: CacheState | undefined = undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    format: ClientFormat,
    operation: Operation,
    key: ApiKeyConfig | undefined,
    table: NamespaceTable,
  ) {
    this.req = req;
    this.res = res;
    this.clientFormat = format;
    this.operation = operation;
    this.key = key;
    this.table = table;
  }

  /** The client's W3C `traceparent` header, if any (read where it is needed; nothing is copied). */
  get traceparent(): string | undefined {
    const t = this.req.headers.traceparent;
    return typeof t === 'string' ? t : undefined;
  }
}

/** An exchange past the route stage: what the admission, the observer and the attempt loop get. */
export interface RoutedExchange extends Exchange, RequestInfo {
  readonly body: Record<string, unknown>;
  readonly model: string;
  readonly stream: boolean;
  readonly traceparent: string | undefined;
  readonly compiled: CompiledRoute;
  readonly route: RouteConfig;
  readonly startedAt: number;
  cache: CacheState | undefined;
}

/** True once the route stage has run (it sets the route only after the parse stage set body and model). */
export function isRouted(x: Exchange): x is RoutedExchange {
  return x.compiled !== undefined;
}

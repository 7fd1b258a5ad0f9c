/**
 * The spans of a request: one SERVER span per request (served or refused), parented on the client's
 * traceparent, and one CLIENT span per upstream try. Only called when an OTLP endpoint is configured.
 */

import type { ApiKeyConfig } from '../../../contract/gateway-config.js';
import type { AttemptInfo, AttemptResult, FinishInfo, RejectedInfo, RequestInfo } from '../pipeline/hooks.js';
import type { Operation, Usage } from '../providers/types.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  type SpanAttributes,
} from '../telemetry/semconv.js';
import { parseTraceparent } from '../telemetry/trace-context.js';
import { type Attributes, type Span, SpanKind } from '../telemetry/tracing/span.js';
import type { Tracer } from '../telemetry/tracing/tracer.js';
import type { CostResult } from './cost.js';
import { GENAI_PROVIDER } from './labels.js';

/**
 * A request's SERVER span (served or refused): child of the client's `traceparent` when it sent one, with
 * the key's Secret id and team label (never the key) added to `attributes`.
 */
function startServerSpan(
  tracer: Tracer,
  name: string,
  startTime: number,
  traceparent: string | undefined,
  key: ApiKeyConfig | undefined,
  attributes: Attributes,
): Span {
  if (key) {
    attributes['tollgate.key'] = key.id;
    if (key.labels.team) attributes['tollgate.key_team'] = key.labels.team;
  }
  return tracer.startSpan(name, SpanKind.SERVER, startTime, parseTraceparent(traceparent), attributes);
}

/** The SERVER span of an admitted request, from its start. */
export function startRequestSpan(tracer: Tracer, req: RequestInfo): Span {
  const op = req.operation;
  return startServerSpan(tracer, `${op} ${req.model}`, req.startedAt, req.traceparent, req.key, {
    'gen_ai.operation.name': op,
    'gen_ai.request.model': req.model,
    'tollgate.route': req.route.id,
    'tollgate.client_format': req.clientFormat,
    'tollgate.stream': req.stream,
  } satisfies SpanAttributes);
}

/** The CLIENT span of one upstream try. */
export function startAttemptSpan(tracer: Tracer, parent: Span, op: Operation, a: AttemptInfo): Span {
  return tracer.startSpan(`${op} ${a.upstreamModel}`, SpanKind.CLIENT, a.startedAt, parent.context(), {
    'gen_ai.operation.name': op,
    'gen_ai.provider.name': GENAI_PROVIDER[a.provider.type],
    'gen_ai.request.model': a.upstreamModel,
    'tollgate.backend': a.backend,
    'tollgate.attempt': a.attempt,
  } satisfies SpanAttributes);
}

export function endAttemptSpan(s: Span, r: AttemptResult): void {
  s.setAttribute('tollgate.outcome', r.outcome);
  if (r.status !== undefined) s.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, r.status);
  if (r.outcome !== 'ok') {
    s.setAttribute(ATTR_ERROR_TYPE, r.outcome);
    s.setError(r.outcome);
  }
  s.end(r.endedAt);
}

/** Ends the SERVER span of a served request with its outcome, usage and cost. */
export function endRequestSpan(
  span: Span,
  info: FinishInfo,
  usage: Usage | undefined,
  cost: CostResult | undefined,
  providerName: string,
): void {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, info.status);
  span.setAttribute('tollgate.attempts', info.attempts);
  if (info.backend) span.setAttribute('tollgate.backend', info.backend);
  if (info.provider) span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, providerName);
  if (info.responseModel) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, info.responseModel);
  if (usage) {
    span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, usage.inputTokens);
    span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, usage.outputTokens);
    if (usage.estimated) span.setAttribute('tollgate.usage_estimated', true);
  }
  const cache = info.cache;
  if (cache !== undefined) {
    span.setAttribute('tollgate.cache', cache.result);
    if (cache.similarity !== undefined) span.setAttribute('tollgate.cache.similarity', cache.similarity);
  }
  if (cost?.priced) span.setAttribute('tollgate.cost_usd', cost.usd);
  else if (cost) span.setAttribute('tollgate.unpriced', true);
  if (info.errorCode) {
    span.setAttribute(ATTR_ERROR_TYPE, info.errorCode);
    span.setError(info.errorCode);
  }
  span.end(info.endedAt);
}

/** Longest client-sent model name put on a span of a refused request (the body limit is the only other bound). */
const MAX_REFUSED_MODEL = 256;

/**
 * The one SERVER span of a request refused before it had an observer (auth, bad input, unknown model,
 * quota), so 401/404/429 show in traces, parented on the client's traceparent; started and ended at once.
 * Named `<operation> <model>` once the request was routed (the model is one a route serves), else
 * `<operation>`: a model no route knows is client-chosen text, kept (capped) in gen_ai.request.model only.
 */
export function rejectedSpan(tracer: Tracer, op: Operation, info: RejectedInfo): Span {
  const model = info.model;
  const attributes: Attributes = {
    'gen_ai.operation.name': op,
    'tollgate.client_format': info.clientFormat,
    'http.response.status_code': info.status,
    'error.type': info.errorCode,
    'tollgate.attempts': 0,
  } satisfies SpanAttributes;
  if (model !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_MODEL] =
      model.length > MAX_REFUSED_MODEL ? model.slice(0, MAX_REFUSED_MODEL) : model;
  if (info.route) attributes['tollgate.route'] = info.route.id;
  const span = startServerSpan(
    tracer,
    info.route && model !== undefined ? `${op} ${model}` : op,
    info.startedAt,
    info.traceparent,
    info.key,
    attributes,
  );
  span.setError(info.errorCode);
  span.end(performance.now());
  return span;
}

/** The access-log line of a request: served (with usage, cost, timings) or refused. */
import type { FinishInfo, RejectedInfo, RequestInfo } from '../pipeline/hooks.js';
import type { Usage } from '../providers/types.js';
import type { AccessRecord } from '../telemetry/access-log.js';
import { type ContentLogOptions, contentFields } from '../telemetry/content-log.js';
import type { CostResult } from './cost.js';

export function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function servedRecord(
  req: RequestInfo,
  info: FinishInfo,
  usage: Usage | undefined,
  cost: CostResult | undefined,
  firstByteAt: number | undefined,
  traceId: string | undefined,
  quotaStore: 'redis' | 'memory' | undefined,
  logContent: ContentLogOptions | undefined,
): AccessRecord {
  const line: AccessRecord = {
    time: new Date().toISOString(),
    type: 'access',
    route: info.route.id,
    backend: info.backend,
    model: req.model,
    response_model: info.responseModel,
    stream: req.stream,
    status: info.status,
    error: info.errorCode,
    attempts: info.attempts,
    input_tokens: usage?.inputTokens,
    output_tokens: usage?.outputTokens,
    cached_input_tokens: usage?.cachedInputTokens || undefined,
    cache_creation_tokens: usage?.cacheCreationTokens || undefined,
    reasoning_tokens: usage?.reasoningTokens || undefined,
    usage_estimated: usage?.estimated || undefined,
    cost_usd: cost?.priced ? cost.usd : undefined,
    unpriced: cost && !cost.priced ? true : undefined,
    latency_ms: round1(info.endedAt - req.startedAt),
    ttft_ms: firstByteAt === undefined ? undefined : round1(firstByteAt - req.startedAt),
    client_aborted: info.clientAborted || undefined,
    key: info.key?.id,
    team: info.key?.labels.team,
    trace_id: traceId,
    quota_store: quotaStore,
    cache: info.cache?.result,
    cache_similarity: info.cache?.similarity,
  };
  if (logContent)
    Object.assign(line, contentFields(logContent, req.body, req.operation === 'chat' ? info.outputText : undefined));
  return line;
}

export function refusedRecord(
  info: RejectedInfo,
  route: string,
  traceId: string | undefined,
  logContent: ContentLogOptions | undefined,
): AccessRecord {
  const line: AccessRecord = {
    time: new Date().toISOString(),
    type: 'access',
    route: route || undefined,
    model: info.model,
    status: info.status,
    error: info.errorCode,
    attempts: 0,
    latency_ms: round1(performance.now() - info.startedAt),
    key: info.key?.id,
    team: info.key?.labels.team,
    trace_id: traceId,
  };
  if (logContent) Object.assign(line, contentFields(logContent, info.body, undefined));
  return line;
}

/**
 * Gemini error bodies (`{"error": {"code", "message", "status", "details"}}`, Google's RPC status) fed into the
 * shared upstream-error mapping. Only what is specific to Gemini is decided here:
 * - a 400 `INVALID_ARGUMENT` whose ErrorInfo reason is API_KEY_INVALID (Gemini's answer to a bad key; it
 *   does not send 401) and `UNAUTHENTICATED` are the provider refusing the gateway's credential, like 401/403;
 * - 503 `UNAVAILABLE` (model overloaded) is `upstream_unavailable`, as Anthropic's overloaded_error is;
 * - a 429 without a `retry-after` header (Google sends none) gets one from its RetryInfo `retryDelay` ("17s").
 * Everything else (429 → upstream_rate_limited, 403 → credential, other 4xx, 5xx, non-JSON bodies) is the
 * shared mapping's, which keeps the upstream message.
 */
import { GatewayError } from '../../errors.js';
import { isRecord, type JsonObject, str } from '../common/json.js';
import { credentialRejected, upstreamHttpError } from '../common/upstream-error.js';
import type { UpstreamErrorContext } from '../types.js';

type Headers = Record<string, string | string[] | undefined>;

const KEY_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED', 'API_KEY_SERVICE_BLOCKED']);

function errorInfoReason(e: JsonObject): string | undefined {
  if (!Array.isArray(e.details)) return undefined;
  for (const d of e.details) {
    if (isRecord(d) && typeof d.reason === 'string') return d.reason;
  }
  return undefined;
}

/** RetryInfo.retryDelay ("17s", "0.5s") → whole seconds for retry-after. */
function retryDelaySeconds(e: JsonObject): string | undefined {
  if (!Array.isArray(e.details)) return undefined;
  for (const d of e.details) {
    if (!isRecord(d) || typeof d.retryDelay !== 'string') continue;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay);
    if (m) return String(Math.ceil(Number(m[1])));
  }
  return undefined;
}

function retryAfter(headers: Headers): Record<string, string> | undefined {
  const v = headers['retry-after'];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? undefined : { 'retry-after': s };
}

/** A non-2xx Gemini answer → the client's coded error. */
export function geminiHttpError(
  status: number,
  bodyText: string,
  headers: Headers,
  context: UpstreamErrorContext = {},
): GatewayError {
  let e: JsonObject | undefined;
  try {
    const v: unknown = JSON.parse(bodyText);
    if (isRecord(v) && isRecord(v.error)) e = v.error;
  } catch {}
  if (e !== undefined) {
    const message = str(e.message) ?? `upstream answered HTTP ${status}`;
    const reason = errorInfoReason(e);
    if (e.status === 'UNAUTHENTICATED' || (reason !== undefined && KEY_REASONS.has(reason)))
      return credentialRejected(context.provider, `${status} ${reason ?? str(e.status)}`, message);
    if (status === 429 && retryAfter(headers) === undefined) {
      const s = retryDelaySeconds(e);
      if (s !== undefined) return upstreamHttpError('gemini', status, bodyText, { 'retry-after': s }, context);
    }
    if (status === 503 || (status >= 500 && e.status === 'UNAVAILABLE')) {
      const h = retryAfter(headers);
      return new GatewayError('upstream_unavailable', message, h === undefined ? {} : { headers: h });
    }
  }
  return upstreamHttpError('gemini', status, bodyText, headers, context);
}

/** An `{"error": {...}}` object sent inside a 200 stream: mapped by its `code` as if it were the HTTP answer. */
export function geminiStreamError(error: unknown, context: UpstreamErrorContext = {}): GatewayError {
  const code = isRecord(error) && typeof error.code === 'number' ? error.code : 500;
  return geminiHttpError(code, JSON.stringify({ error }), {}, context);
}

/**
 * The one place where upstream errors become GatewayErrors: non-2xx answers (any wire) and error events
 * received mid-stream. The upstream's own message is kept; the client sees it rendered in its own format.
 */
import type { WireFormat } from '../../../../contract/gateway-config.js';
import { GatewayError } from '../../errors.js';
import type { UpstreamErrorContext } from '../types.js';
import { excerpt, isRecord, str } from './json.js';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  if (v !== undefined) return Array.isArray(v) ? v[0] : v;
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() === name) {
      const w = headers[k];
      return Array.isArray(w) ? w[0] : w;
    }
  }
  return undefined;
}

interface Parsed {
  message: string;
  /** Anthropic `error.type` or OpenAI `error.type`, when the body had one. */
  type: string | undefined;
  param: string | undefined;
}

/** Pulls message, type and param out of an OpenAI-style, Anthropic-style or ad-hoc (vLLM, FastAPI) error body. */
function parseErrorBody(status: number, bodyText: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(bodyText);
  } catch {
    const what = bodyText.trim() === '' ? 'an empty body' : `a non-JSON body: ${excerpt(bodyText)}`;
    return { message: `upstream answered HTTP ${status} with ${what}`, type: undefined, param: undefined };
  }
  if (isRecord(v)) {
    const e = v.error;
    if (isRecord(e)) {
      const message = str(e.message) ?? `upstream answered HTTP ${status}`;
      return { message, type: str(e.type), param: str(e.param) };
    }
    if (typeof e === 'string') return { message: e, type: undefined, param: undefined };
    const m = str(v.message) ?? str(v.detail);
    if (m !== undefined) return { message: m, type: str(v.type), param: str(v.param) };
  }
  return {
    message: `upstream answered HTTP ${status} with an unrecognised error body: ${excerpt(bodyText)}`,
    type: undefined,
    param: undefined,
  };
}

/**
 * The provider refused the GATEWAY's credential (401/403, or an auth error event mid-stream). The client's own
 * key was fine (it passed the gateway's auth), so this is upstream trouble: 502 `upstream_error`, retried under
 * the `5xx` condition on another backend, which may hold a valid credential. Never a 401/403 to the client, which
 * would tell it that ITS key is bad.
 */
export function credentialRejected(provider: string | undefined, what: string, message: string): GatewayError {
  const who = provider === undefined ? 'provider' : `provider "${provider}"`;
  return new GatewayError(
    'upstream_error',
    `${who} rejected the gateway's credential (${what}): ${redactKeyLike(message)}`,
  );
}

/**
 * A provider's answer to a bad credential often quotes it: OpenAI masks it (`sk-proj-****abcd`), self-hosted
 * OpenAI-compatible servers may echo it whole. The message reaches clients and logs, so every key-like word
 * goes: one with a `*` or a digit among 8+ key characters, or a known key prefix.
 */
function redactKeyLike(message: string): string {
  return message.replace(/[^\s"'`,;:()<>[\]{}]+/g, (word) => {
    const w = word.replace(/[.!?]+$/, '');
    const keyChars = /^[A-Za-z0-9_\-.+/=*~]+$/.test(w);
    const keyLike = keyChars && ((w.length >= 8 && /[0-9*]/.test(w)) || /^(?:sk|pk|rk|gsk|xai|key)[-_]|^AIza/i.test(w));
    return keyLike ? `[redacted]${word.slice(w.length)}` : word;
  });
}

/**
 * Maps an upstream non-2xx answer. `wire` is kept for symmetry (both wires share the body heuristics);
 * `provider` (`namespace/name`) is named in messages that are about the provider rather than the request.
 */
export function upstreamHttpError(
  _wire: WireFormat,
  status: number,
  bodyText: string,
  headers: Headers,
  context: UpstreamErrorContext = {},
): GatewayError {
  const p = parseErrorBody(status, bodyText);
  if (status === 401 || status === 403) return credentialRejected(context.provider, String(status), p.message);
  const opts = p.param === undefined ? {} : { param: p.param };
  if (status === 429) {
    const ra = header(headers, 'retry-after');
    return new GatewayError('upstream_rate_limited', p.message, {
      ...opts,
      ...(ra === undefined ? {} : { headers: { 'retry-after': ra } }),
    });
  }
  // 503 and Anthropic's 529: the provider is unavailable now; the client learns so, with any Retry-After.
  if (status === 503 || status === 529 || p.type === 'overloaded_error') {
    const ra = header(headers, 'retry-after');
    return new GatewayError('upstream_unavailable', p.message, {
      ...opts,
      ...(ra === undefined ? {} : { headers: { 'retry-after': ra } }),
    });
  }
  if (status >= 400 && status < 500) return new GatewayError('upstream_client_error', p.message, { ...opts, status });
  return new GatewayError('upstream_error', p.message, opts);
}

/** Maps an error event received inside a 200 stream (Anthropic `event: error`, OpenAI `data: {"error":...}`). */
export function upstreamStreamError(error: unknown, context: UpstreamErrorContext = {}): GatewayError {
  const e = isRecord(error) ? error : {};
  const message = str(e.message) ?? 'upstream reported an error mid-stream';
  const type = str(e.type);
  switch (type) {
    case 'overloaded_error':
      return new GatewayError('upstream_unavailable', message);
    case 'rate_limit_error':
      return new GatewayError('upstream_rate_limited', message);
    case 'invalid_request_error':
      return new GatewayError('upstream_client_error', message);
    case 'authentication_error':
    case 'permission_error':
      return credentialRejected(context.provider, type, message);
    case 'not_found_error':
      return new GatewayError('upstream_client_error', message, { status: 404 });
    case 'request_too_large':
      return new GatewayError('upstream_client_error', message, { status: 413 });
    default:
      return new GatewayError('upstream_error', message);
  }
}

/**
 * Bedrock errors into the shared upstream-error mapping. Bedrock answers `{"message": "..."}` (some services
 * `Message`) with the error type in the `x-amzn-errortype` header (`ValidationException:http://…`); streams carry
 * exceptions as event-stream messages named in lower camel case (`throttlingException`). What is specific here:
 * - AccessDenied / UnrecognizedClient / InvalidSignature / ExpiredToken (403, sometimes 400) are the provider
 *   refusing the gateway's credential: 502 like every provider's 401/403;
 * - ServiceUnavailableException (503) → upstream_unavailable; ModelTimeoutException (408) → upstream_timeout;
 *   ModelErrorException (424), ModelStreamErrorException → upstream_error (the model failed, not the request).
 * Everything else (429 ThrottlingException → upstream_rate_limited, 400 ValidationException, 404, 5xx) is the
 * shared mapping's. The upstream message is kept.
 */
import { GatewayError } from '../../errors.js';
import { excerpt, isRecord, str } from '../common/json.js';
import { credentialRejected, upstreamHttpError } from '../common/upstream-error.js';
import type { UpstreamErrorContext } from '../types.js';

type Headers = Record<string, string | string[] | undefined>;

const CREDENTIAL = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
]);

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `ValidationException:http://internal.amazon.com/…` or `com.amazon.coral#ValidationException` → `ValidationException`. */
function errorType(headers: Headers, body: Record<string, unknown> | undefined): string | undefined {
  const raw = first(headers['x-amzn-errortype']) ?? (body ? (str(body.__type) ?? str(body.code)) : undefined);
  if (raw === undefined || raw === '') return undefined;
  const noUrl = raw.split(':')[0]!;
  const hash = noUrl.lastIndexOf('#');
  return hash === -1 ? noUrl : noUrl.slice(hash + 1);
}

/** A non-2xx Bedrock answer → the client's coded error. */
export function bedrockHttpError(
  status: number,
  bodyText: string,
  headers: Headers,
  context: UpstreamErrorContext = {},
): GatewayError {
  let body: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(bodyText);
    if (isRecord(v)) body = v;
  } catch {}
  const type = errorType(headers, body);
  const bodyMessage = body ? (str(body.message) ?? str(body.Message)) : undefined;
  const message =
    bodyMessage ??
    (bodyText.trim() === ''
      ? `upstream answered HTTP ${status}${type ? ` ${type}` : ''} with an empty body`
      : `upstream answered HTTP ${status} with ${body ? 'an unrecognised error body' : 'a non-JSON body'}: ${excerpt(bodyText)}`);
  const typed = type === undefined ? message : `${type}: ${message}`;
  const ra = first(headers['retry-after']);
  const retry = ra === undefined ? {} : { headers: { 'retry-after': ra } };
  if (status === 401 || status === 403 || (type !== undefined && CREDENTIAL.has(type)))
    return credentialRejected(context.provider, `${status}${type ? ` ${type}` : ''}`, message);
  if (status === 429 || type === 'ThrottlingException') return new GatewayError('upstream_rate_limited', typed, retry);
  if (status === 503 || type === 'ServiceUnavailableException')
    return new GatewayError('upstream_unavailable', typed, retry);
  if (status === 408 || type === 'ModelTimeoutException') return new GatewayError('upstream_timeout', typed);
  if (status === 424 || type === 'ModelErrorException' || type === 'ModelStreamErrorException')
    return new GatewayError('upstream_error', typed);
  if (bodyMessage !== undefined) {
    if (status >= 400 && status < 500) return new GatewayError('upstream_client_error', typed, { status });
    return new GatewayError('upstream_error', typed);
  }
  return upstreamHttpError('bedrock', status, bodyText, headers, context);
}

/** The HTTP status each stream exception stands for (ConverseStream's documented errors). */
const STREAM_STATUS: Record<string, number> = {
  ThrottlingException: 429,
  ValidationException: 400,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ModelStreamErrorException: 424,
  ModelTimeoutException: 408,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ServiceQuotaExceededException: 400,
  ModelNotReadyException: 429,
};

/** An exception message inside a 200 converse-stream (`throttlingException`, …) → the client's coded error. */
export function bedrockStreamError(eventType: string, data: string, context: UpstreamErrorContext = {}): GatewayError {
  const type = eventType.charAt(0).toUpperCase() + eventType.slice(1);
  return bedrockHttpError(STREAM_STATUS[type] ?? 500, data, { 'x-amzn-errortype': type }, context);
}

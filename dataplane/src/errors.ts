/**
 * The catalogue of coded errors. Every error a client can see is a GatewayError with one of these codes;
 * `renderError` is the one place that turns it into the client's wire format (OpenAI or Anthropic).
 * Upstream errors are mapped into GatewayErrors in exactly one place (providers' error translators).
 */
export type ClientFormat = 'openai' | 'anthropic';

interface CodeInfo {
  status: number;
  /** OpenAI `error.type`. */
  openai: string;
  /** Anthropic `error.type`. */
  anthropic: string;
}

export const ERROR_CODES = {
  invalid_json: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  invalid_request: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  /** The request could not be parsed as HTTP (server/listener.ts answers it). */
  bad_http_request: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  unsupported_parameter: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  missing_api_key: { status: 401, openai: 'authentication_error', anthropic: 'authentication_error' },
  invalid_api_key: { status: 401, openai: 'authentication_error', anthropic: 'authentication_error' },
  model_not_found: { status: 404, openai: 'invalid_request_error', anthropic: 'not_found_error' },
  not_found: { status: 404, openai: 'invalid_request_error', anthropic: 'not_found_error' },
  method_not_allowed: { status: 405, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  /** The client did not finish sending its request body in time (the server's body-read timeout). */
  request_timeout: { status: 408, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  body_too_large: { status: 413, openai: 'invalid_request_error', anthropic: 'request_too_large' },
  /** The request's headers exceed the server's limit (server/listener.ts). */
  headers_too_large: { status: 431, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  unsupported_media_type: { status: 415, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  quota_exceeded: { status: 429, openai: 'rate_limit_error', anthropic: 'rate_limit_error' },
  /** The upstream answered with a client error (4xx other than 429): its status and message pass through. */
  upstream_client_error: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error' },
  upstream_rate_limited: { status: 429, openai: 'rate_limit_error', anthropic: 'rate_limit_error' },
  /** Every backend the request may use is at its maxConcurrency and the provider's queue is full (retry-after). */
  queue_full: { status: 429, openai: 'rate_limit_error', anthropic: 'rate_limit_error' },
  /** Every backend of the route is out of provider capacity (spec.limits or its rate-limit headers); retry-after set. */
  capacity_exhausted: { status: 429, openai: 'rate_limit_error', anthropic: 'rate_limit_error' },
  upstream_error: { status: 502, openai: 'api_error', anthropic: 'api_error' },
  upstream_bad_response: { status: 502, openai: 'api_error', anthropic: 'api_error' },
  upstream_unavailable: { status: 503, openai: 'api_error', anthropic: 'overloaded_error' },
  no_healthy_backend: { status: 503, openai: 'api_error', anthropic: 'overloaded_error' },
  quota_store_unavailable: { status: 503, openai: 'api_error', anthropic: 'api_error' },
  not_ready: { status: 503, openai: 'api_error', anthropic: 'api_error' },
  /** The gateway is stopping: its shutdown grace ended while the request was running. */
  shutting_down: { status: 503, openai: 'api_error', anthropic: 'overloaded_error' },
  upstream_timeout: { status: 504, openai: 'timeout_error', anthropic: 'timeout_error' },
  /** The route's timeout ran out while the request waited in a provider's queue (nothing was sent upstream). */
  queue_timeout: { status: 504, openai: 'timeout_error', anthropic: 'timeout_error' },
  internal: { status: 500, openai: 'api_error', anthropic: 'api_error' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface GatewayErrorOptions {
  /** Overrides the code's status (upstream client errors keep the upstream's status). */
  status?: number;
  /** The request parameter at fault, when there is one (OpenAI `error.param`). */
  param?: string;
  /** Extra response headers, e.g. retry-after. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.param = options.param;
    this.headers = options.headers;
  }
}

/** The error body in the client's format. */
export function errorBody(err: GatewayError, format: ClientFormat): unknown {
  const info = ERROR_CODES[err.code];
  if (format === 'anthropic') {
    return { type: 'error', error: { type: anthropicTypeForStatus(err, info.anthropic), message: err.message } };
  }
  return { error: { message: err.message, type: info.openai, param: err.param ?? null, code: err.code } };
}

function anthropicTypeForStatus(err: GatewayError, fallback: string): string {
  if (err.code !== 'upstream_client_error') return fallback;
  const type = anthropicErrorTypeForStatus(err.status);
  return type === 'api_error' ? 'invalid_request_error' : type;
}

/** Anthropic's documented error `type` for an HTTP status (api_error for the rest). */
export function anthropicErrorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return 'api_error';
  }
}

/** Status, headers and serialized body for a GatewayError in the client's format. */
export function renderError(
  err: GatewayError,
  format: ClientFormat,
): { status: number; headers: Record<string, string>; body: string } {
  return {
    status: err.status,
    headers: { 'content-type': 'application/json', ...err.headers },
    body: JSON.stringify(errorBody(err, format)),
  };
}

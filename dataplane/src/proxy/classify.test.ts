/**
 * docs/routing.md "Retries", "Streams" and "Passive health", one row per rule: what kind a failure is, whether
 * it is retried (under which retry.on condition) and whether it counts against the backend's health.
 */
import { describe, expect, it } from '@jest/globals';
import type { RetryCondition } from '../../../contract/gateway-config.js';
import type { AttemptOutcome } from '../pipeline/hooks.js';
import { credentialRejected, upstreamHttpError, upstreamStreamError } from '../providers/common/upstream-error.js';
import { FAILURES, type FailureKind, httpFailure, retryAfterMs, transportError, transportFailure } from './classify.js';

type Row = [
  rule: string,
  kind: FailureKind,
  outcome: AttemptOutcome,
  retryOn: RetryCondition | undefined,
  health: boolean,
];

/** What the upstream's status becomes once the one upstream-error mapping made a GatewayError of it. */
const mapped = (status: number) => upstreamHttpError('openai', status, '{"error":{"message":"m"}}', {}).status;
const http = (status: number) => httpFailure(status, mapped(status));
const transport = (code: string | undefined, afterHeaders = false) =>
  transportFailure(code, false, false, afterHeaders);

describe('retry.on conditions and passive health, per failure', () => {
  const rows: Array<[...Row, FailureKind]> = [
    [
      'a 429 is retried under `429`, and does not count toward health',
      'rate_limited',
      'http_429',
      '429',
      false,
      http(429),
    ],
    ['a 500 is retried under `5xx` and counts', 'server_error', 'http_5xx', '5xx', true, http(500)],
    ['a 502 is retried under `5xx` and counts', 'server_error', 'http_5xx', '5xx', true, http(502)],
    ['a 503 is retried under `5xx` and counts', 'server_error', 'http_5xx', '5xx', true, http(503)],
    ['a 504 is retried under `5xx` and counts', 'server_error', 'http_5xx', '5xx', true, http(504)],
    ['a 529 is retried under `5xx` and counts', 'server_error', 'http_5xx', '5xx', true, http(529)],
    [
      "a 401 (the provider refused the gateway's credential) is retried under `5xx` and counts",
      'credential_rejected',
      'http_4xx',
      '5xx',
      true,
      http(401),
    ],
    [
      "a 403 (the provider refused the gateway's credential) is retried under `5xx` and counts",
      'credential_rejected',
      'http_4xx',
      '5xx',
      true,
      http(403),
    ],
    [
      'another 4xx (400) passes straight through: never retried, never counted',
      'client_error',
      'http_4xx',
      undefined,
      false,
      http(400),
    ],
    ['another 4xx (404) passes straight through', 'client_error', 'http_4xx', undefined, false, http(404)],
    ['another 4xx (422) passes straight through', 'client_error', 'http_4xx', undefined, false, http(422)],
    [
      'a connection refused is `connect-failure` and counts',
      'connect_failure',
      'connect_failure',
      'connect-failure',
      true,
      transport('ECONNREFUSED'),
    ],
    [
      'a DNS failure is `connect-failure`',
      'connect_failure',
      'connect_failure',
      'connect-failure',
      true,
      transport('ENOTFOUND'),
    ],
    [
      'a DNS timeout is `connect-failure`',
      'connect_failure',
      'connect_failure',
      'connect-failure',
      true,
      transport('EAI_AGAIN'),
    ],
    [
      'an unreachable host is `connect-failure`',
      'connect_failure',
      'connect_failure',
      'connect-failure',
      true,
      transport('EHOSTUNREACH'),
    ],
    [
      'an unreachable network is `connect-failure`',
      'connect_failure',
      'connect_failure',
      'connect-failure',
      true,
      transport('ENETUNREACH'),
    ],
    [
      'a connect timeout is `connect-failure`',
      'connect_failure',
      'connect_failure',
      'connect-failure',
      true,
      transport('UND_ERR_CONNECT_TIMEOUT'),
    ],
    ['a connection reset is retried under `5xx` and counts', 'reset', 'reset', '5xx', true, transport('ECONNRESET')],
    ['a socket closed without a code is a reset', 'reset', 'reset', '5xx', true, transport(undefined)],
    [
      'a stream (or body) that broke after the headers, before the first byte, is a reset, retried under `5xx`',
      'reset',
      'reset',
      '5xx',
      true,
      transport('ECONNREFUSED', true),
    ],
    [
      'a try past its time is `timeout` and counts',
      'timeout',
      'timeout',
      'timeout',
      true,
      transportFailure('ECONNRESET', true, false, true),
    ],
    [
      'a client that went away: never retried, never counted',
      'aborted',
      'aborted',
      undefined,
      false,
      transportFailure('ECONNRESET', false, true, true),
    ],
  ];
  it.each(rows)('%s', (_rule, kind, outcome, retryOn, health, got) => {
    expect(got).toBe(kind);
    expect(FAILURES[kind]).toEqual({ outcome, retryOn, health });
  });

  const fixed: Row[] = [
    [
      'an unparseable body (or invalid or truncated stream) is `bad_response`, retried under `5xx`, and counts',
      'bad_response',
      'bad_response',
      '5xx',
      true,
    ],
    [
      'a provider credential that could not be had fails over like a 5xx and counts',
      'credential_unavailable',
      'http_5xx',
      '5xx',
      true,
    ],
  ];
  it.each(fixed)('%s', (_rule, kind, outcome, retryOn, health) => {
    expect(FAILURES[kind]).toEqual({ outcome, retryOn, health });
  });

  it('a timeout wins over a client that left at the same moment, and both over the error code', () => {
    expect(transportFailure('ECONNREFUSED', true, true, false)).toBe('timeout');
    expect(transportFailure('ECONNREFUSED', false, true, false)).toBe('aborted');
  });
});

describe('error events in a stream before its first byte (retried by their meaning)', () => {
  const rows: Array<[string, unknown, FailureKind]> = [
    ['an overloaded_error event is a 5xx', { type: 'overloaded_error', message: 'busy' }, 'server_error'],
    ['an api_error event is a 5xx', { type: 'api_error', message: 'boom' }, 'server_error'],
    ['a rate_limit_error event is a 429', { type: 'rate_limit_error', message: 'slow' }, 'rate_limited'],
    [
      'an authentication_error event is a refused credential (5xx)',
      { type: 'authentication_error', message: 'no' },
      'server_error',
    ],
    [
      'an invalid_request_error event is the request’s fault',
      { type: 'invalid_request_error', message: 'bad' },
      'client_error',
    ],
  ];
  it.each(rows)('%s', (_rule, event, kind) => {
    const e = upstreamStreamError(event, { provider: 'ai/p' });
    expect(httpFailure(e.status, e.status)).toBe(kind);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-12-02T10:00:00Z');
  const rows: Array<[string, number, string | undefined, number | undefined]> = [
    ['on a 429, seconds', 429, '2', 2000],
    ['on a 503, seconds', 503, '3', 3000],
    ['on a 503, an HTTP date', 503, 'Wed, 02 Dec 2026 10:00:05 GMT', 5000],
    ['on a 429, absent', 429, undefined, undefined],
    ['on a 500: not honoured', 500, '2', undefined],
    ['on a 502: not honoured', 502, '2', undefined],
    ['on a 400: not honoured', 400, '2', undefined],
  ];
  it.each(rows)('%s', (_rule, status, header, ms) => {
    expect(retryAfterMs(status, header, now)).toBe(ms);
  });
});

describe('what the client is told', () => {
  it('a 401/403 never reaches it as 401/403: 502 upstream_error naming the provider', () => {
    for (const s of [401, 403]) {
      const e = upstreamHttpError('openai', s, '{"error":{"message":"Incorrect API key"}}', {}, { provider: 'ai/p' });
      expect(e.status).toBe(502);
      expect(e.code).toBe('upstream_error');
      expect(e.message).toBe(`provider "ai/p" rejected the gateway's credential (${s}): Incorrect API key`);
    }
    expect(credentialRejected('ai/p', '401', 'x').status).toBe(502);
  });

  it('a 503 or 429 passes its status and Retry-After on', () => {
    const u = upstreamHttpError('openai', 503, '{"error":{"message":"later"}}', { 'retry-after': '9' });
    expect([u.status, u.code, u.headers]).toEqual([503, 'upstream_unavailable', { 'retry-after': '9' }]);
    const l = upstreamHttpError('openai', 429, '{"error":{"message":"slow"}}', { 'retry-after': '4' });
    expect([l.status, l.code, l.headers]).toEqual([429, 'upstream_rate_limited', { 'retry-after': '4' }]);
    const other = upstreamHttpError('openai', 500, '{"error":{"message":"boom"}}', { 'retry-after': '4' });
    expect([other.status, other.code, other.headers]).toEqual([502, 'upstream_error', undefined]);
  });

  it('transport failures: 504 for a timeout, 503 for a connect failure, 502 for a reset', () => {
    expect(transportError('timeout', 'p', undefined, undefined).status).toBe(504);
    expect(transportError('connect_failure', 'p', 'ECONNREFUSED', undefined).message).toBe(
      'could not connect to provider p (ECONNREFUSED)',
    );
    expect(transportError('connect_failure', 'p', 'ECONNREFUSED', undefined).status).toBe(503);
    expect(transportError('reset', 'p', 'ECONNRESET', undefined).message).toBe(
      'connection to provider p failed (ECONNRESET)',
    );
    expect(transportError('reset', 'p', undefined, undefined).status).toBe(502);
  });
});

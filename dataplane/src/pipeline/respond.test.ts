/** docs/routing.md: the headers every answer carries, and how a client-chosen name is made header-safe. */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { GatewayError } from '../errors.js';
import {
  errorEvent,
  headerSafe,
  MAX_HEADER_VALUE,
  SSE_CONTENT_TYPE,
  setAnswerHead,
  setTollgateHeaders,
  writeError,
} from './respond.js';

/** What the writer sets on a response: status, headers and the body it ends with. */
function recorder() {
  const headers: Record<string, string | number> = {};
  const r = {
    statusCode: 0,
    body: undefined as string | undefined,
    setHeader: (k: string, v: string | number) => {
      headers[k] = v;
      return r;
    },
    end: (b?: string) => {
      r.body = b;
      return r;
    },
  };
  return { r, res: r as unknown as ServerResponse, headers };
}

describe('headerSafe', () => {
  const rows: Array<[string, string, string]> = [
    ['visible ASCII is kept as is', 'openai/gpt-4o', 'openai/gpt-4o'],
    ['other characters are percent-encoded as UTF-8', 'p/gpt-模型', 'p/gpt-%E6%A8%A1%E5%9E%8B'],
    ['control characters too', 'p/a\nb', 'p/a%0Ab'],
    ['a long name is cut at the cap', `p/${'x'.repeat(2000)}`, `p/${'x'.repeat(MAX_HEADER_VALUE - 2)}`],
    ['never inside an escape', `p/${'x'.repeat(MAX_HEADER_VALUE - 4)}é`, `p/${'x'.repeat(MAX_HEADER_VALUE - 4)}`],
  ];
  it.each(rows)('%s', (_rule, input, out) => {
    expect(headerSafe(input)).toBe(out);
    expect(headerSafe(input).length).toBeLessThanOrEqual(MAX_HEADER_VALUE);
  });
});

describe('answers', () => {
  it('x-tollgate-route, -backend, -attempts and the admission headers on every answer', () => {
    const { res, headers } = recorder();
    setTollgateHeaders(res, 'ai/r', 'p/模', 2, { 'x-ratelimit-remaining-requests': '9' });
    expect(headers).toEqual({
      'x-tollgate-route': 'ai/r',
      'x-tollgate-backend': 'p/%E6%A8%A1',
      'x-tollgate-attempts': '2',
      'x-ratelimit-remaining-requests': '9',
    });
  });

  it('a stream is answered with no buffering anywhere on the way', () => {
    const { r, res, headers } = recorder();
    setAnswerHead(res, 200, SSE_CONTENT_TYPE);
    expect(r.statusCode).toBe(200);
    expect(headers).toEqual({
      'content-type': SSE_CONTENT_TYPE,
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
  });

  it('an error in the client format, with its own headers (retry-after) and the extra ones', () => {
    const { r, res, headers } = recorder();
    const e = new GatewayError('upstream_unavailable', 'later', { headers: { 'retry-after': '5' } });
    expect(writeError(res, 'anthropic', e, { 'x-tollgate-route': 'ai/r' })).toBe(503);
    expect(r.statusCode).toBe(503);
    expect(headers['retry-after']).toBe('5');
    expect(headers['x-tollgate-route']).toBe('ai/r');
    expect(headers['content-length']).toBe(Buffer.byteLength(r.body!));
    expect(JSON.parse(r.body!)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'later' } });
  });

  it('the error event that ends a broken stream, per format', () => {
    const e = new GatewayError('upstream_bad_response', 'cut');
    expect(errorEvent(e, 'anthropic')).toMatch(/^event: error\ndata: \{"type":"error".*\n\n$/);
    expect(errorEvent(e, 'openai')).toMatch(/^data: \{"error":\{"message":"cut".*\n\n$/);
  });
});

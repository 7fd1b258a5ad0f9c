import { describe, expect, test } from '@jest/globals';
import { forwardedHeaders, vectorOf } from './semantic-embed.js';

test('forwardedHeaders: the key, trace and route-match headers go; hop-by-hop and body headers do not', () => {
  const out = forwardedHeaders({
    authorization: 'Bearer sk-1',
    'x-api-key': 'sk-2',
    traceparent: '00-abc-def-01',
    'x-team': 'research',
    'x-multi': ['a', 'b'],
    host: 'gw:8080',
    connection: 'keep-alive',
    'content-length': '123',
    'content-type': 'text/plain',
    'transfer-encoding': 'chunked',
    'accept-encoding': 'gzip',
    expect: '100-continue',
  });
  expect(out).toEqual({
    'content-type': 'application/json',
    authorization: 'Bearer sk-1',
    'x-api-key': 'sk-2',
    traceparent: '00-abc-def-01',
    'x-team': 'research',
    'x-multi': 'a, b',
  });
});

describe('vectorOf: the first embedding of an OpenAI answer, at unit length', () => {
  test('a vector is normalised', () => {
    const v = vectorOf({ data: [{ embedding: [3, 4] }, { embedding: [1, 0] }] });
    expect(v).toBeInstanceOf(Float32Array);
    expect(Array.from(v!)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
  });
  test.each([
    ['not an object', 'x'],
    ['null', null],
    ['no data', { object: 'list' }],
    ['empty data', { data: [] }],
    ['base64 string', { data: [{ embedding: 'AAAA' }] }],
    ['empty vector', { data: [{ embedding: [] }] }],
    ['a non-number', { data: [{ embedding: [1, '2'] }] }],
    ['a NaN-like value', { data: [{ embedding: [1, null] }] }],
    ['an item that is null', { data: [null] }],
  ])('%s → undefined', (_n, body) => {
    expect(vectorOf(body)).toBeUndefined();
  });
});

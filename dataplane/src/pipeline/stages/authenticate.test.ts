import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, test } from '@jest/globals';
import type { ApiKeyConfig } from '../../../../contract/gateway-config.js';
import { GatewayError } from '../../errors.js';
import { authenticate, type KeyTable } from './authenticate.js';

const key: ApiKeyConfig = { id: 'ai/k1', namespace: 'ai', hash: 'sha256:unused', labels: {} };
const closed: KeyTable = {
  keys: new Map([[createHash('sha256').update('sk-good').digest('hex'), key]]),
  open: false,
};
const open: KeyTable = { keys: new Map(), open: true };

const outcome = (t: KeyTable, h: IncomingHttpHeaders) => {
  const r = authenticate(t, h);
  return r instanceof GatewayError ? r.code : r;
};

describe('authenticate', () => {
  test.each<[string, IncomingHttpHeaders, ApiKeyConfig | string]>([
    ['bearer', { authorization: 'Bearer sk-good' }, key],
    ['bearer, any case, padded', { authorization: 'bEaReR   sk-good  ' }, key],
    ['x-api-key', { 'x-api-key': 'sk-good' }, key],
    ['x-api-key, padded', { 'x-api-key': ' sk-good ' }, key],
    [
      'authorization wins over x-api-key',
      { authorization: 'Bearer sk-bad', 'x-api-key': 'sk-good' },
      'invalid_api_key',
    ],
    ['not a bearer scheme falls back to x-api-key', { authorization: 'Basic sk-good', 'x-api-key': 'sk-good' }, key],
    ['unknown key', { authorization: 'Bearer sk-bad' }, 'invalid_api_key'],
    ['nothing sent', {}, 'missing_api_key'],
    ['empty bearer', { authorization: 'Bearer    ' }, 'missing_api_key'],
    ['empty x-api-key', { 'x-api-key': '' }, 'missing_api_key'],
  ])('%s', (_name, headers, expected) => {
    expect(outcome(closed, headers)).toEqual(expected);
  });

  test('open mode ignores whatever key is sent', () => {
    expect(outcome(open, { authorization: 'Bearer anything' })).toBeUndefined();
    expect(outcome(open, {})).toBeUndefined();
  });
});

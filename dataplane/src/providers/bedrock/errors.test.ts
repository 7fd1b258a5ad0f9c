import { describe, expect, it } from '@jest/globals';
import { bedrockCassette } from '../../../../test/support/bedrock-cassettes.js';
import { bodyText } from '../../../../test/support/cassettes.js';
import { bedrockHttpError, bedrockStreamError } from './errors.js';

const CTX = { provider: 'ml/bedrock' };

function fromCassette(name: string) {
  const c = bedrockCassette(name);
  return bedrockHttpError(c.status, bodyText(c), c.headers, CTX);
}

describe('Bedrock errors', () => {
  it.each([
    [
      'error-400-validation',
      'upstream_client_error',
      400,
      'ValidationException: The model returned the following errors',
    ],
    ['error-404', 'upstream_client_error', 404, 'ResourceNotFoundException: Could not resolve'],
    ['error-429-throttling', 'upstream_rate_limited', 429, 'ThrottlingException: Too many requests'],
    ['error-503', 'upstream_unavailable', 503, 'ServiceUnavailableException: The service is temporarily'],
    ['error-424-model-error', 'upstream_error', 502, 'ModelErrorException: The model produced an invalid response'],
    ['error-500', 'upstream_error', 502, 'InternalServerException: The server encountered'],
  ])('%s → %s (%i), message kept', (name, code, status, message) => {
    const e = fromCassette(name);
    expect(e).toMatchObject({ code, status });
    expect(e.message).toContain(message);
  });

  it.each(['error-403-access-denied', 'error-403-unrecognized-client'])(
    '%s: the gateway credential was refused → 502 naming the provider',
    (name) => {
      const e = fromCassette(name);
      expect(e).toMatchObject({ code: 'upstream_error', status: 502 });
      expect(e.message).toMatch(/^provider "ml\/bedrock" rejected the gateway's credential \(403 \w+Exception\): /);
    },
  );

  it('an expired session token is a credential error even when sent as 400', () => {
    const e = bedrockHttpError(400, '{"message":"The security token included in the request is expired"}', {
      'x-amzn-errortype': 'ExpiredTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/',
    });
    expect(e.code).toBe('upstream_error');
    expect(e.message).toContain('rejected the gateway');
  });

  it('retry-after is kept on 429; a non-JSON body is described', () => {
    expect(bedrockHttpError(429, '{"message":"slow"}', { 'retry-after': '3' }).headers).toEqual({ 'retry-after': '3' });
    const e = bedrockHttpError(502, '<html>Bad Gateway</html>', {});
    expect(e.code).toBe('upstream_error');
    expect(e.message).toContain('non-JSON body');
  });

  it.each([
    ['throttlingException', 'upstream_rate_limited'],
    ['serviceUnavailableException', 'upstream_unavailable'],
    ['validationException', 'upstream_client_error'],
    ['modelStreamErrorException', 'upstream_error'],
    ['internalServerException', 'upstream_error'],
    ['error', 'upstream_error'],
  ])('stream exception %s → %s', (type, code) => {
    const e = bedrockStreamError(type, '{"message":"went wrong"}');
    expect(e.code).toBe(code);
    expect(e.message).toContain('went wrong');
  });
});

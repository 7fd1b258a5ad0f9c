import { bodyText, cassette } from '../../../../test/support/cassettes.js';
import { errorBody } from '../../errors.js';
import { anthropicToOpenAi } from '../anthropic/anthropic-to-openai.js';
import { openAiToAnthropic } from '../openai/openai-to-anthropic-response.js';
import { upstreamHttpError, upstreamStreamError } from './upstream-error.js';

describe('upstream error mapping (non-2xx)', () => {
  it.each([
    [
      'openai/error-400',
      'upstream_client_error',
      400,
      "Invalid value for 'temperature': expected a number between 0 and 2.",
    ],
    ['openai/error-401', 'upstream_error', 502, "rejected the gateway's credential (401): Incorrect API key provided"],
    ['openai/error-429', 'upstream_rate_limited', 429, 'Rate limit reached for gpt-4o-mini'],
    ['openai/error-500', 'upstream_error', 502, 'The server had an error'],
    ['openai/error-502-html', 'upstream_error', 502, 'upstream answered HTTP 502 with a non-JSON body: "<html>'],
    ['anthropic/error-400', 'upstream_client_error', 400, 'max_tokens: Field required'],
    ['anthropic/error-401', 'upstream_error', 502, "rejected the gateway's credential (401): invalid x-api-key"],
    ['anthropic/error-429', 'upstream_rate_limited', 429, 'would exceed the rate limit'],
    ['anthropic/error-500', 'upstream_error', 502, 'Internal server error'],
    ['anthropic/error-529', 'upstream_unavailable', 503, 'Overloaded'],
  ])('%s → %s (%i) keeping the upstream message', (name, code, status, message) => {
    const c = cassette(name);
    const wire = name.startsWith('openai') ? 'openai' : 'anthropic';
    const translator = wire === 'openai' ? openAiToAnthropic : anthropicToOpenAi;
    const e = translator.error(c.status, bodyText(c), c.headers);
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.message).toContain(message);
    expect(upstreamHttpError(wire, c.status, bodyText(c), c.headers)).toEqual(e);
  });

  it('keeps retry-after on 429 (any header case, array values) and the param of OpenAI errors', () => {
    const c = cassette('openai/error-429');
    expect(upstreamHttpError('openai', 429, bodyText(c), c.headers).headers).toEqual({ 'retry-after': '20' });
    expect(upstreamHttpError('openai', 429, '{}', { 'Retry-After': ['7', '8'] }).headers).toEqual({
      'retry-after': '7',
    });
    expect(upstreamHttpError('openai', 429, '{}', {}).headers).toBeUndefined();
    const a = cassette('anthropic/error-429');
    expect(upstreamHttpError('anthropic', 429, bodyText(a), a.headers).headers).toEqual({ 'retry-after': '12' });
    const bad = cassette('openai/error-400');
    expect(upstreamHttpError('openai', 400, bodyText(bad), {}).param).toBe('temperature');
  });

  it('an upstream 401/403 (the gateway credential refused) is a 502 naming the provider, never a 401/403', () => {
    const c = cassette('anthropic/error-401');
    const e = upstreamHttpError('anthropic', 401, bodyText(c), {}, { provider: 'ai/claude' });
    expect([e.code, e.status]).toEqual(['upstream_error', 502]);
    expect(e.message).toBe(`provider "ai/claude" rejected the gateway's credential (401): invalid x-api-key`);
    expect(errorBody(e, 'anthropic')).toEqual({ type: 'error', error: { type: 'api_error', message: e.message } });
    expect(errorBody(e, 'openai')).toEqual({
      error: { message: e.message, type: 'api_error', param: null, code: 'upstream_error' },
    });
    const forbidden = upstreamHttpError(
      'openai',
      403,
      '{"error":{"message":"no access to model"}}',
      {},
      {
        provider: 'ai/openai',
      },
    );
    expect([forbidden.code, forbidden.status, forbidden.message]).toEqual([
      'upstream_error',
      502,
      `provider "ai/openai" rejected the gateway's credential (403): no access to model`,
    ]);
    // The translators pass the context through.
    const o = cassette('openai/error-401');
    expect(openAiToAnthropic.error(401, bodyText(o), {}, { provider: 'ai/o' }).message).toMatch(/^provider "ai\/o"/);
  });

  it.each([
    [
      'OpenAI (masked)',
      401,
      'Incorrect API key provided: sk-proj-****abcd. You can find your API key at https://x.test/keys.',
      'sk-proj-',
    ],
    ['self-hosted (whole key)', 401, 'Invalid API key: gw-7Hq2LmX9pR4tZ8wK', '7Hq2LmX9'],
    ['a prefixed key without digits', 403, "key 'sk-abcdefghijklmnop' is not allowed to use this model", 'abcdefgh'],
  ])('a credential refusal that quotes the key (%s) reaches the client without it', (_n, status, message, secret) => {
    const body = JSON.stringify({ error: { message, type: 'invalid_request_error' } });
    const e = upstreamHttpError('openai', status, body, {}, { provider: 'ai/o' });
    expect(e.code).toBe('upstream_error');
    expect(e.message).toContain("rejected the gateway's credential");
    expect(e.message).toContain('[redacted]');
    expect(e.message).not.toContain(secret);
    const mid = upstreamStreamError({ type: 'authentication_error', message });
    expect(mid.message).not.toContain(secret);
  });

  it('keeps the words of a credential refusal that are not key-like', () => {
    const e = upstreamHttpError('openai', 401, bodyText(cassette('openai/error-401')), {});
    expect(e.message).toBe(
      "provider rejected the gateway's credential (401): Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.",
    );
  });

  it.each([
    [503, '{"type":"error","error":{"type":"overloaded_error","message":"busy"}}', 'upstream_unavailable', 'busy'],
    [404, '{"error":"model not found"}', 'upstream_client_error', 'model not found'],
    [
      400,
      '{"object":"error","message":"vLLM says no","type":"BadRequestError","code":400}',
      'upstream_client_error',
      'vLLM says no',
    ],
    [422, '{"detail":"field required"}', 'upstream_client_error', 'field required'],
    [500, '', 'upstream_error', 'upstream answered HTTP 500 with an empty body'],
    [500, '[1,2]', 'upstream_error', 'unrecognised error body: "[1,2]"'],
    [502, '{"error":{"code":7}}', 'upstream_error', 'upstream answered HTTP 502'],
    [302, 'moved', 'upstream_error', 'non-JSON body: "moved"'],
  ])('maps HTTP %i %s → %s', (status, text, code, message) => {
    const e = upstreamHttpError('openai', status, text, {});
    expect(e.code).toBe(code);
    expect(e.message).toContain(message);
  });

  it('keeps a non-JSON excerpt short and free of control characters', () => {
    const e = upstreamHttpError('openai', 500, `<p>\u0000\r\n${'x'.repeat(5000)}`, {});
    expect(e.message.length).toBeLessThan(220);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(e.message).not.toMatch(/[\u0000-\u001f]/);
  });
});

describe('upstream error mapping (mid-stream)', () => {
  it.each([
    ['overloaded_error', 'upstream_unavailable', 503],
    ['rate_limit_error', 'upstream_rate_limited', 429],
    ['api_error', 'upstream_error', 502],
    ['invalid_request_error', 'upstream_client_error', 400],
    ['authentication_error', 'upstream_error', 502],
    ['permission_error', 'upstream_error', 502],
    ['not_found_error', 'upstream_client_error', 404],
    ['request_too_large', 'upstream_client_error', 413],
    ['server_error', 'upstream_error', 502],
  ])('%s → %s', (type, code, status) => {
    const e = upstreamStreamError({ type, message: 'm' });
    expect([e.code, e.status]).toEqual([code, status]);
    expect(e.message).toBe(
      type.endsWith('authentication_error') || type === 'permission_error'
        ? `provider rejected the gateway's credential (${type}): m`
        : 'm',
    );
  });

  it('copes with an error that is not an object', () => {
    expect(upstreamStreamError('boom').message).toBe('upstream reported an error mid-stream');
  });
});

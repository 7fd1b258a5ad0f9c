import type { ProviderConfig } from '../../../../contract/gateway-config.js';
import { bodyText, cassette } from '../../../../test/support/cassettes.js';
import { errorBody } from '../../errors.js';
import { adapterFor, isImplementedProviderType, translatorFor } from '../index.js';
import { geminiAdapter } from './adapter.js';
import { geminiHttpError, geminiStreamError } from './errors.js';
import { geminiToAnthropic } from './gemini-to-anthropic.js';
import { geminiToOpenAi } from './gemini-to-openai.js';

describe('Gemini upstream errors', () => {
  it.each([
    ['error-400', 'upstream_client_error', 400, 'generation_config.temperature: must be between 0 and 2'],
    [
      'error-400-api-key',
      'upstream_error',
      502,
      `provider "ai/g" rejected the gateway's credential (400 API_KEY_INVALID): API key not valid`,
    ],
    [
      'error-403',
      'upstream_error',
      502,
      `provider "ai/g" rejected the gateway's credential (403): Method doesn't allow unregistered callers`,
    ],
    ['error-404', 'upstream_client_error', 404, 'models/gemini-9-ultra is not found for API version v1beta'],
    ['error-429', 'upstream_rate_limited', 429, 'You exceeded your current quota'],
    ['error-500', 'upstream_error', 502, 'An internal error has occurred'],
    ['error-503', 'upstream_unavailable', 503, 'The model is overloaded'],
  ])('%s → %s (%i) keeping the upstream message', (name, code, status, message) => {
    const c = cassette(`gemini/${name}`);
    for (const t of [geminiToOpenAi, geminiToAnthropic]) {
      const e = t.error(c.status, bodyText(c), c.headers, { provider: 'ai/g' });
      expect([e.code, e.status]).toEqual([code, status]);
      expect(e.message).toContain(message);
    }
  });

  it('renders in each client format with the status-specific Anthropic type', () => {
    const e404 = geminiToAnthropic.error(404, bodyText(cassette('gemini/error-404')), {});
    expect(errorBody(e404, 'anthropic')).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: expect.stringContaining('is not found') },
    });
    const e503 = geminiToOpenAi.error(503, bodyText(cassette('gemini/error-503')), {});
    expect(errorBody(e503, 'anthropic')).toEqual(
      expect.objectContaining({ error: expect.objectContaining({ type: 'overloaded_error' }) }),
    );
    expect(errorBody(e503, 'openai')).toEqual({
      error: {
        message: 'The model is overloaded. Please try again later.',
        type: 'api_error',
        param: null,
        code: 'upstream_unavailable',
      },
    });
  });

  it('turns RetryInfo.retryDelay into retry-after on a 429, and keeps a real retry-after header', () => {
    const c = cassette('gemini/error-429');
    expect(geminiHttpError(429, bodyText(c), {}).headers).toEqual({ 'retry-after': '17' });
    expect(geminiHttpError(429, bodyText(c), { 'retry-after': '3' }).headers).toEqual({ 'retry-after': '3' });
    const frac = JSON.stringify({
      error: { code: 429, message: 'slow', status: 'RESOURCE_EXHAUSTED', details: [{ retryDelay: '0.4s' }] },
    });
    expect(geminiHttpError(429, frac, {}).headers).toEqual({ 'retry-after': '1' });
    const none = JSON.stringify({ error: { code: 429, message: 'slow', status: 'RESOURCE_EXHAUSTED' } });
    expect(geminiHttpError(429, none, {}).headers).toBeUndefined();
  });

  it.each([
    [
      401,
      '{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}',
      'upstream_error',
      502,
    ],
    [
      400,
      '{"error":{"code":400,"message":"API key expired. Please renew the API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_EXPIRED"}]}}',
      'upstream_error',
      502,
    ],
    [
      504,
      '{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}',
      'upstream_error',
      502,
    ],
    [502, '<html>Bad gateway</html>', 'upstream_error', 502],
    [500, '', 'upstream_error', 502],
  ])('maps HTTP %i %s → %s', (status, text, code, mapped) => {
    const e = geminiHttpError(status, text, {});
    expect([e.code, e.status]).toEqual([code, mapped]);
  });

  it('keeps a non-JSON error body short', () => {
    expect(geminiHttpError(502, '<html>Bad gateway</html>', {}).message).toBe(
      'upstream answered HTTP 502 with a non-JSON body: "<html>Bad gateway</html>"',
    );
  });

  it.each([
    [{ code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' }, 'upstream_rate_limited'],
    [{ code: 500, message: 'boom', status: 'INTERNAL' }, 'upstream_error'],
    [{ code: 400, message: 'bad', status: 'INVALID_ARGUMENT' }, 'upstream_client_error'],
    [{ message: 'no code' }, 'upstream_error'],
    ['just a string', 'upstream_error'],
  ])('maps a mid-stream error %j → %s', (error, code) => {
    expect(geminiStreamError(error).code).toBe(code);
  });
});

const provider = (over: Partial<ProviderConfig> = {}): ProviderConfig =>
  ({
    id: 'ai/g',
    namespace: 'ai',
    name: 'g',
    type: 'gemini',
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    credential: 'AIza-test',
    models: [],
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
    ...over,
  }) as ProviderConfig;

describe('Gemini adapter', () => {
  const chat = { model: 'smart', messages: [{ role: 'user', content: 'Hi' }] };

  it('is registered for type gemini with both client formats', () => {
    expect(isImplementedProviderType('gemini')).toBe(true);
    expect(adapterFor('gemini')).toBe(geminiAdapter);
    expect(translatorFor('openai', 'gemini', 'chat')).toBe(geminiToOpenAi);
    expect(translatorFor('anthropic', 'gemini', 'chat')).toBe(geminiToAnthropic);
  });

  it('builds generateContent with the key in x-goog-api-key (never in the URL)', () => {
    const r = geminiAdapter.buildRequest({
      provider: provider(),
      operation: 'chat',
      clientFormat: 'openai',
      body: chat,
      upstreamModel: 'gemini-2.5-flash',
      stream: false,
    });
    expect(r.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    expect(r.headers).toEqual({ 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test' });
    expect(JSON.parse(r.body)).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });

  it('streams from streamGenerateContent?alt=sse; accepts models/ prefixed names; sends no key when none is set', () => {
    const r = geminiAdapter.buildRequest({
      provider: provider({ credential: undefined }),
      operation: 'chat',
      clientFormat: 'anthropic',
      body: { model: 'smart', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }], stream: true },
      upstreamModel: 'models/gemini-2.5-pro',
      stream: true,
    });
    expect(r.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    expect(r.headers['x-goog-api-key']).toBeUndefined();
    expect(JSON.parse(r.body).generationConfig).toEqual({ maxOutputTokens: 5 });
  });

  it('rejects embeddings with unsupported_parameter naming model (adapter and translator table)', () => {
    expect(() =>
      geminiAdapter.buildRequest({
        provider: provider(),
        operation: 'embeddings',
        clientFormat: 'openai',
        body: { model: 'e', input: 'x' },
        upstreamModel: 'text-embedding-004',
        stream: false,
      }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter', param: 'model' }));
    expect(() => translatorFor('openai', 'gemini', 'embeddings')).toThrow(
      expect.objectContaining({ code: 'unsupported_parameter', param: 'model' }),
    );
  });
});

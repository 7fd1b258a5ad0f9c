import type { ProviderConfig } from '../../../../contract/gateway-config.js';
import { testServiceAccount } from '../../../../test/support/vertex-service-account.js';
import type { ClientFormat } from '../../errors.js';
import { adapterFor, translatorFor } from '../index.js';
import type { BuildRequestInput } from '../types.js';
import { VERTEX_ANTHROPIC_VERSION, vertexAdapter, vertexPublisher } from './adapter.js';

const BASE = 'https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5';

function provider(extra: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    id: 'ai/vx',
    namespace: 'ai',
    name: 'vx',
    type: 'vertex-ai',
    baseUrl: BASE,
    models: [],
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
    ...extra,
  } as ProviderConfig;
}

const openAiBody = {
  model: 'client-model',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ],
  max_tokens: 20,
};
const anthropicBody = {
  model: 'client-model',
  max_tokens: 20,
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'Hi' }],
};

function build(
  clientFormat: ClientFormat,
  upstreamModel: string,
  stream: boolean,
  extra: Partial<BuildRequestInput> = {},
) {
  const body = clientFormat === 'openai' ? openAiBody : anthropicBody;
  const r = vertexAdapter.buildRequest({
    provider: provider(),
    operation: 'chat',
    clientFormat,
    body: stream ? { ...body, stream: true } : body,
    upstreamModel,
    stream,
    credential: 'ya29.token',
    ...extra,
  });
  return { ...r, json: JSON.parse(r.body) as Record<string, unknown> };
}

describe('vertex-ai adapter', () => {
  it('is the adapter for vertex-ai', () => {
    expect(adapterFor('vertex-ai')).toBe(vertexAdapter);
  });

  it('picks the publisher (and wire) by model name', () => {
    expect(vertexPublisher('claude-sonnet-4-5@20250929')).toBe('anthropic');
    expect(vertexPublisher('gemini-2.5-flash')).toBe('google');
    expect(vertexAdapter.wireFor?.('claude-haiku-4-5@20251001')).toBe('anthropic');
    expect(vertexAdapter.wireFor?.('gemini-2.5-pro')).toBe('gemini');
    expect(translatorFor('openai', vertexAdapter.wireFor!('claude-x'), 'chat')).toBe(
      translatorFor('openai', 'anthropic', 'chat'),
    );
  });

  describe('Gemini models (publisher google)', () => {
    it.each([
      [false, `${BASE}/publishers/google/models/gemini-2.5-flash:generateContent`],
      [true, `${BASE}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`],
    ])('stream %s → %s', (stream, url) => {
      const r = build('openai', 'gemini-2.5-flash', stream);
      expect(r.url).toBe(url);
      expect(r.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer ya29.token' });
      expect(r.json).toEqual({
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: { maxOutputTokens: 20 },
      });
    });

    it('translates Anthropic clients with the Gemini translator', () => {
      const r = build('anthropic', 'models/gemini-2.5-pro', false);
      expect(r.url).toBe(`${BASE}/publishers/google/models/gemini-2.5-pro:generateContent`);
      expect(r.json).toEqual({
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: { maxOutputTokens: 20 },
      });
    });
  });

  describe('Claude models (publisher anthropic)', () => {
    it.each([
      [false, 'rawPredict'],
      [true, 'streamRawPredict'],
    ])('Anthropic client, stream %s → :%s, body without model, with anthropic_version', (stream, method) => {
      const r = build('anthropic', 'claude-sonnet-4-5@20250929', stream);
      expect(r.url).toBe(`${BASE}/publishers/anthropic/models/claude-sonnet-4-5@20250929:${method}`);
      expect(r.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer ya29.token' });
      expect(r.json).toEqual({
        anthropic_version: VERTEX_ANTHROPIC_VERSION,
        max_tokens: 20,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Hi' }],
        ...(stream ? { stream: true } : {}),
      });
      expect(r.headers['anthropic-version']).toBeUndefined();
    });

    it('OpenAI client: the OpenAI → Anthropic translation, then Vertex body rules', () => {
      const r = build('openai', 'claude-haiku-4-5@20251001', true);
      expect(r.url).toBe(`${BASE}/publishers/anthropic/models/claude-haiku-4-5@20251001:streamRawPredict`);
      expect(r.json).toEqual({
        anthropic_version: 'vertex-2023-10-16',
        system: 'Be brief.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
        max_tokens: 20,
        stream: true,
      });
    });

    it('forwards the client anthropic-beta header', () => {
      const r = build('anthropic', 'claude-x', false, { clientHeaders: { 'anthropic-beta': 'context-1m-2025-08-07' } });
      expect(r.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    });

    it('rejects what the Anthropic translation rejects', () => {
      expect(() => build('openai', 'claude-x', false, { body: { ...openAiBody, n: 2 } })).toThrow(
        expect.objectContaining({ code: 'unsupported_parameter', param: 'n' }),
      );
    });
  });

  it('encodes odd characters in the model but keeps @', () => {
    expect(build('openai', 'gemini/../x?y', false).url).toBe(
      `${BASE}/publishers/google/models/gemini%2F..%2Fx%3Fy:generateContent`,
    );
  });

  it('sends a plain access token from the Secret when no credential was resolved', () => {
    const r = vertexAdapter.buildRequest({
      provider: provider({ credential: 'ya29.sidecar' }),
      operation: 'chat',
      clientFormat: 'openai',
      body: openAiBody,
      upstreamModel: 'gemini-2.5-flash',
      stream: false,
    });
    expect(r.headers.authorization).toBe('Bearer ya29.sidecar');
  });

  it('never sends a service-account key as a bearer', () => {
    const sa = testServiceAccount();
    expect(() =>
      vertexAdapter.buildRequest({
        provider: provider({ credential: sa.json }),
        operation: 'chat',
        clientFormat: 'openai',
        body: openAiBody,
        upstreamModel: 'gemini-2.5-flash',
        stream: false,
      }),
    ).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('sends no Authorization without a credential', () => {
    const r = build('openai', 'gemini-2.5-flash', false, { credential: undefined });
    expect(r.headers.authorization).toBeUndefined();
  });

  it('has no embeddings', () => {
    expect(() => build('openai', 'text-embedding-005', false, { operation: 'embeddings' })).toThrow(
      expect.objectContaining({ code: 'unsupported_parameter' }),
    );
  });
});

import type { ProviderConfig } from '../../../contract/gateway-config.js';
import {
  adapterFor,
  clientWantsUsage,
  forwardedClientHeaders,
  isImplementedProviderType,
  translatorFor,
} from './index.js';

const provider = (over: Partial<ProviderConfig>): ProviderConfig =>
  ({
    id: 'ai/p',
    namespace: 'ai',
    name: 'p',
    type: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    credential: 'sk-test',
    models: [],
    connectTimeoutMs: 5000,
    requestTimeoutMs: 300000,
    ...over,
  }) as ProviderConfig;
const chat = { model: 'smart', messages: [{ role: 'user', content: 'Hi' }] };
const msg = { model: 'smart', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }] };

describe('adapters', () => {
  it('openai: {baseUrl}/chat/completions with a bearer token and include_usage on streams', () => {
    const r = adapterFor('openai').buildRequest({
      provider: provider({}),
      operation: 'chat',
      clientFormat: 'openai',
      body: { ...chat, stream: true },
      upstreamModel: 'gpt-4o',
      stream: true,
    });
    expect(r.url).toBe('https://api.openai.com/v1/chat/completions');
    expect(r.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer sk-test' });
    expect(JSON.parse(r.body)).toEqual({
      ...chat,
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('openai: embeddings URL; Anthropic client bodies translated with max_completion_tokens', () => {
    const a = adapterFor('openai');
    expect(
      a.buildRequest({
        provider: provider({}),
        operation: 'embeddings',
        clientFormat: 'openai',
        body: { model: 'e', input: 'x' },
        upstreamModel: 'text-embedding-3-small',
        stream: false,
      }).url,
    ).toBe('https://api.openai.com/v1/embeddings');
    const r = a.buildRequest({
      provider: provider({}),
      operation: 'chat',
      clientFormat: 'anthropic',
      body: msg,
      upstreamModel: 'gpt-4o',
      stream: false,
    });
    expect(JSON.parse(r.body)).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
      max_completion_tokens: 20,
    });
  });

  it('openai-compatible: credential optional, max_tokens for Anthropic clients', () => {
    const r = adapterFor('openai-compatible').buildRequest({
      provider: provider({ type: 'openai-compatible', baseUrl: 'http://vllm.ai.svc:8000/v1', credential: undefined }),
      operation: 'chat',
      clientFormat: 'anthropic',
      body: msg,
      upstreamModel: 'llama-3.1-8b',
      stream: false,
    });
    expect(r.url).toBe('http://vllm.ai.svc:8000/v1/chat/completions');
    expect(r.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(r.body).max_tokens).toBe(20);
  });

  it('azure-openai: deployment URL with api-version and the api-key header', () => {
    const a = adapterFor('azure-openai');
    const p = provider({
      type: 'azure-openai',
      baseUrl: 'https://res.openai.azure.com',
      apiVersion: '2025-01-01-preview',
    });
    const r = a.buildRequest({
      provider: p,
      operation: 'chat',
      clientFormat: 'openai',
      body: chat,
      upstreamModel: 'gpt 4o/prod',
      stream: false,
    });
    expect(r.url).toBe(
      'https://res.openai.azure.com/openai/deployments/gpt%204o%2Fprod/chat/completions?api-version=2025-01-01-preview',
    );
    expect(r.headers).toEqual({ 'content-type': 'application/json', 'api-key': 'sk-test' });
    const e = a.buildRequest({
      provider: { ...p, apiVersion: undefined } as unknown as ProviderConfig,
      operation: 'embeddings',
      clientFormat: 'openai',
      body: { model: 'e', input: 'x' },
      upstreamModel: 'emb',
      stream: false,
    });
    expect(e.url).toBe('https://res.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21');
  });

  it('anthropic: {baseUrl}/v1/messages with x-api-key and anthropic-version', () => {
    const a = adapterFor('anthropic');
    const p = provider({ type: 'anthropic', baseUrl: 'https://api.anthropic.com' });
    const r = a.buildRequest({
      provider: p,
      operation: 'chat',
      clientFormat: 'openai',
      body: chat,
      upstreamModel: 'claude-x',
      stream: true,
    });
    expect(r.url).toBe('https://api.anthropic.com/v1/messages');
    expect(r.headers).toEqual({
      'content-type': 'application/json',
      'x-api-key': 'sk-test',
      'anthropic-version': '2023-06-01',
    });
    expect(JSON.parse(r.body)).toEqual({
      model: 'claude-x',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      max_tokens: 4096,
      stream: true,
    });
    const pass = a.buildRequest({
      provider: { ...p, credential: undefined },
      operation: 'chat',
      clientFormat: 'anthropic',
      body: msg,
      upstreamModel: 'claude-x',
      stream: false,
    });
    expect(JSON.parse(pass.body)).toEqual({ ...msg, model: 'claude-x' });
    expect(pass.headers['x-api-key']).toBeUndefined();
  });

  it("forwards the client's anthropic-beta to Anthropic only, never credential-scoped OpenAI headers", () => {
    const client = forwardedClientHeaders({
      'anthropic-beta': 'prompt-caching-2024-07-31,output-128k-2025-02-19',
      'openai-organization': 'org-client',
      'openai-project': 'proj-client',
      authorization: 'Bearer client-key',
      'x-api-key': 'client-key',
    });
    expect(client).toEqual({ 'anthropic-beta': 'prompt-caching-2024-07-31,output-128k-2025-02-19' });
    expect(forwardedClientHeaders({ 'openai-organization': 'org', 'anthropic-beta': '' })).toBeUndefined();
    expect(forwardedClientHeaders({ 'anthropic-beta': ['a', 'b'] })).toEqual({ 'anthropic-beta': 'a,b' });
    const input = {
      operation: 'chat' as const,
      body: msg,
      upstreamModel: 'claude-sonnet-4-5',
      stream: false,
      clientHeaders: { ...client!, 'openai-organization': 'org-client' },
    };
    const a = adapterFor('anthropic').buildRequest({
      ...input,
      provider: provider({ type: 'anthropic', baseUrl: 'https://api.anthropic.com' }),
      clientFormat: 'anthropic',
    });
    expect(a.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31,output-128k-2025-02-19');
    expect(a.headers['openai-organization']).toBeUndefined();
    const none = adapterFor('anthropic').buildRequest({
      ...input,
      clientHeaders: undefined,
      provider: provider({ type: 'anthropic', baseUrl: 'https://api.anthropic.com' }),
      clientFormat: 'anthropic',
    });
    expect(none.headers['anthropic-beta']).toBeUndefined();
    const o = adapterFor('openai').buildRequest({ ...input, provider: provider({}), clientFormat: 'anthropic' });
    expect(Object.keys(o.headers).sort()).toEqual(['authorization', 'content-type']);
  });

  it('rejects embeddings on the Anthropic wire and from Anthropic clients', () => {
    const base = { body: { model: 'e', input: 'x' }, upstreamModel: 'e', stream: false } as const;
    expect(() =>
      adapterFor('anthropic').buildRequest({
        ...base,
        provider: provider({ type: 'anthropic' }),
        operation: 'embeddings',
        clientFormat: 'openai',
      }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter', param: 'model' }));
    expect(() =>
      adapterFor('openai').buildRequest({
        ...base,
        provider: provider({}),
        operation: 'embeddings',
        clientFormat: 'anthropic',
      }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter' }));
    expect(() => translatorFor('openai', 'anthropic', 'embeddings')).toThrow(
      expect.objectContaining({ code: 'unsupported_parameter' }),
    );
    expect(() => translatorFor('anthropic', 'openai', 'embeddings')).toThrow(
      expect.objectContaining({ code: 'unsupported_parameter' }),
    );
  });

  it('vertex-ai is implemented', () => {
    expect(isImplementedProviderType('vertex-ai')).toBe(true);
  });

  it('bedrock is implemented (event-stream decoder for streams)', () => {
    expect(isImplementedProviderType('bedrock')).toBe(true);
    expect(adapterFor('bedrock').wire).toBe('bedrock');
    expect(adapterFor('bedrock').streamDecoder).toBeDefined();
  });

  it('a type without an adapter is a 501', () => {
    const type = 'not-a-type' as Parameters<typeof adapterFor>[0];
    expect(isImplementedProviderType(type)).toBe(false);
    expect(() => adapterFor(type)).toThrow(expect.objectContaining({ code: 'internal', status: 501 }));
  });

  it('passes unsupported-parameter errors from translation out of buildRequest', () => {
    expect(() =>
      adapterFor('anthropic').buildRequest({
        provider: provider({ type: 'anthropic' }),
        operation: 'chat',
        clientFormat: 'openai',
        body: { ...chat, n: 3 },
        upstreamModel: 'c',
        stream: false,
      }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter', param: 'n' }));
  });
});

describe('translatorFor and clientWantsUsage', () => {
  it('returns one translator per (client, wire) pair for chat, and embeddings for OpenAI⇄OpenAI', () => {
    const all = [
      translatorFor('openai', 'openai', 'chat'),
      translatorFor('openai', 'anthropic', 'chat'),
      translatorFor('anthropic', 'openai', 'chat'),
      translatorFor('anthropic', 'anthropic', 'chat'),
      translatorFor('openai', 'openai', 'embeddings'),
    ];
    expect(new Set(all).size).toBe(5);
    expect(translatorFor('openai', 'anthropic', 'chat')).toBe(translatorFor('openai', 'anthropic', 'chat'));
  });

  it('reads stream_options.include_usage for OpenAI clients; Anthropic clients always get usage', () => {
    expect(clientWantsUsage('openai', { stream_options: { include_usage: true } })).toBe(true);
    expect(clientWantsUsage('openai', { stream_options: null })).toBe(false);
    expect(clientWantsUsage('openai', {})).toBe(false);
    expect(clientWantsUsage('anthropic', {})).toBe(true);
  });
});

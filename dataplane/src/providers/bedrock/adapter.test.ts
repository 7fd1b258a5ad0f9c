import { describe, expect, it } from '@jest/globals';
import type { ProviderConfig } from '../../../../contract/gateway-config.js';
import { bedrockAdapter, parseBedrockCredential } from './adapter.js';
import { GuardedEventStreamDecoder } from './eventstream.js';
import { signV4 } from './sigv4.js';

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function provider(credential: string | undefined, baseUrl = 'https://bedrock-runtime.us-east-1.amazonaws.com') {
  const p: ProviderConfig = {
    id: 'ml/br',
    namespace: 'ml',
    name: 'br',
    type: 'bedrock',
    baseUrl,
    region: 'us-east-1',
    models: [],
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
  };
  if (credential !== undefined) p.credential = credential;
  return p;
}

const body = { model: 'c', messages: [{ role: 'user', content: 'héllo' }] };
const MODEL = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0';

describe('bedrockAdapter', () => {
  it('API key: Bearer, converse URL with the model id encoded', () => {
    const r = bedrockAdapter.buildRequest({
      provider: provider('br-api-key'),
      operation: 'chat',
      clientFormat: 'openai',
      body,
      upstreamModel: MODEL,
      stream: false,
    });
    expect(r.url).toBe(`https://bedrock-runtime.us-east-1.amazonaws.com/model/${encodeURIComponent(MODEL)}/converse`);
    expect(r.url).toContain('/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic');
    expect(r.headers.authorization).toBe('Bearer br-api-key');
    expect(r.headers['x-amz-date']).toBeUndefined();
    expect(JSON.parse(r.body)).toEqual({ messages: [{ role: 'user', content: [{ text: 'héllo' }] }] });
  });

  it('IAM keys: SigV4 over the exact body at `now`, verifiable by recomputing', () => {
    const now = Date.UTC(2025, 0, 2, 3, 4, 5) / 1000;
    const r = bedrockAdapter.buildRequest({
      provider: provider(JSON.stringify({ ...KEYS, sessionToken: 'tok' }), 'http://127.0.0.1:9999/prefix/'),
      operation: 'chat',
      clientFormat: 'anthropic',
      body: { ...body, max_tokens: 5 },
      upstreamModel: 'anthropic.claude-3-haiku-20240307-v1:0',
      stream: true,
      now,
    });
    const url = new URL(r.url);
    expect(url.pathname).toBe('/prefix/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
    expect(r.headers['x-amz-date']).toBe('20250102T030405Z');
    expect(r.headers['x-amz-security-token']).toBe('tok');
    expect(r.headers.accept).toBe('application/vnd.amazon.eventstream');
    const again = signV4({
      method: 'POST',
      host: url.host,
      path: url.pathname,
      headers: { 'content-type': 'application/json' },
      body: r.body,
      region: 'us-east-1',
      service: 'bedrock',
      credentials: { ...KEYS, sessionToken: 'tok' },
      now: now * 1000,
      contentSha256Header: true,
    });
    expect(r.headers.authorization).toBe(again.headers.authorization);
    expect(r.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250102\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    // A different second, a different signature (the signing key cache is per day, the signature is not).
    const later = bedrockAdapter.buildRequest({
      provider: provider(JSON.stringify({ ...KEYS, sessionToken: 'tok' }), 'http://127.0.0.1:9999/prefix/'),
      operation: 'chat',
      clientFormat: 'anthropic',
      body: { ...body, max_tokens: 5 },
      upstreamModel: 'anthropic.claude-3-haiku-20240307-v1:0',
      stream: true,
      now: now + 1,
    });
    expect(later.headers.authorization).not.toBe(r.headers.authorization);
  });

  it('embeddings are unsupported; streams use the event-stream decoder', () => {
    expect(() =>
      bedrockAdapter.buildRequest({
        provider: provider('k'),
        operation: 'embeddings',
        clientFormat: 'openai',
        body: { input: 'x' },
        upstreamModel: 'm',
        stream: false,
      }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_parameter' }));
    expect(bedrockAdapter.streamDecoder?.()).toBeInstanceOf(GuardedEventStreamDecoder);
  });

  it('parseBedrockCredential', () => {
    expect(parseBedrockCredential('abc')).toEqual({ ok: true, credential: { kind: 'apiKey', key: 'abc' } });
    expect(parseBedrockCredential(JSON.stringify(KEYS))).toEqual({
      ok: true,
      credential: { kind: 'iam', credentials: KEYS },
    });
    expect(parseBedrockCredential('{nope')).toEqual({ ok: false, problem: 'is not valid JSON' });
    expect(parseBedrockCredential('{"accessKeyId":"a"}')).toEqual({
      ok: false,
      problem: 'has no secretAccessKey string',
    });
  });
});

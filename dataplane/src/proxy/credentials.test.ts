import type { ProviderConfig } from '../../../contract/gateway-config.js';
import { decodeJwt, testServiceAccount } from '../../../test/support/vertex-service-account.js';
import { GatewayError } from '../errors.js';
import { CLOUD_PLATFORM_SCOPE, JWT_BEARER_GRANT } from '../providers/vertex/service-account.js';
import { CredentialResolver, type TokenFetch } from './credentials.js';

const sa = testServiceAccount('https://oauth2.example.test/token');

function provider(type: ProviderConfig['type'], credential?: string, id = 'ai/vx'): ProviderConfig {
  return {
    id,
    namespace: 'ai',
    name: id.split('/')[1]!,
    type,
    baseUrl: 'https://example.test',
    ...(credential === undefined ? {} : { credential }),
    models: [],
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
  } as ProviderConfig;
}

interface Call {
  url: string;
  form: URLSearchParams;
  answer(status: number, body: unknown): void;
  fail(err: Error): void;
}

/** A token endpoint the test answers by hand, with a clock it moves by hand. */
function harness() {
  let now = 1_700_000_000_000;
  const calls: Call[] = [];
  const fetch: TokenFetch = (url, body) =>
    new Promise((resolve, reject) => {
      calls.push({
        url,
        form: new URLSearchParams(body),
        answer: (status, b) => resolve({ status, text: typeof b === 'string' ? b : JSON.stringify(b) }),
        fail: reject,
      });
    });
  const resolver = new CredentialResolver({ now: () => now, fetch });
  return {
    resolver,
    calls,
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

const vertex = provider('vertex-ai', sa.json);
const tick = () => new Promise((r) => setImmediate(r));

describe('CredentialResolver', () => {
  it('returns static keys as they are, synchronously, for every other type and for plain tokens', () => {
    const h = harness();
    expect(h.resolver.resolve(provider('openai', 'sk-1'))).toBe('sk-1');
    expect(h.resolver.resolve(provider('gemini', 'AIza'))).toBe('AIza');
    // A JSON-looking key on another type is not exchanged.
    expect(h.resolver.resolve(provider('openai-compatible', '{"x":1}'))).toBe('{"x":1}');
    expect(h.resolver.resolve(provider('vertex-ai', 'ya29.sidecar'))).toBe('ya29.sidecar');
    expect(h.resolver.resolve(provider('vertex-ai'))).toBeUndefined();
    expect(h.calls).toHaveLength(0);
  });

  it('exchanges a signed JWT for a token, once for concurrent requests (single-flight)', async () => {
    const h = harness();
    const a = h.resolver.resolve(vertex);
    const b = h.resolver.resolve(vertex);
    expect(a).toBeInstanceOf(Promise);
    expect(b).toBe(a);
    expect(h.calls).toHaveLength(1);
    const call = h.calls[0]!;
    expect(call.url).toBe('https://oauth2.example.test/token');
    expect(call.form.get('grant_type')).toBe(JWT_BEARER_GRANT);
    const jwt = decodeJwt(call.form.get('assertion')!, sa.publicKey);
    expect(jwt.valid).toBe(true);
    expect(jwt.claims).toEqual({
      iss: sa.clientEmail,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: 'https://oauth2.example.test/token',
      iat: Math.floor(h.now / 1000),
      exp: Math.floor(h.now / 1000) + 3600,
    });
    call.answer(200, { access_token: 'ya29.one', expires_in: 3599, token_type: 'Bearer' });
    await expect(a).resolves.toBe('ya29.one');
    await expect(b).resolves.toBe('ya29.one');
  });

  it('serves the cached token synchronously until shortly before expiry, refreshing in the background', async () => {
    const h = harness();
    const first = h.resolver.resolve(vertex);
    h.calls[0]!.answer(200, { access_token: 'ya29.one', expires_in: 3600 });
    await first;

    h.advance(54 * 60_000); // 54 min: fresh
    expect(h.resolver.resolve(vertex)).toBe('ya29.one');
    expect(h.calls).toHaveLength(1);

    h.advance(2 * 60_000); // 56 min: inside the 5 min refresh window, still usable
    expect(h.resolver.resolve(vertex)).toBe('ya29.one');
    expect(h.resolver.resolve(vertex)).toBe('ya29.one');
    expect(h.calls).toHaveLength(2); // one background refresh for both
    h.calls[1]!.answer(200, { access_token: 'ya29.two', expires_in: 3600 });
    await tick();
    expect(h.resolver.resolve(vertex)).toBe('ya29.two');
  });

  it('waits for a new token once the old one is about to expire', async () => {
    const h = harness();
    const first = h.resolver.resolve(vertex);
    h.calls[0]!.answer(200, { access_token: 'ya29.one', expires_in: 3600 });
    await first;
    h.advance(3600_000 - 10_000); // 10 s left: not handed out any more
    const next = h.resolver.resolve(vertex);
    expect(next).toBeInstanceOf(Promise);
    h.calls[1]!.answer(200, { access_token: 'ya29.two', expires_in: 3600 });
    await expect(next).resolves.toBe('ya29.two');
  });

  it('a short-lived token is refreshed after half its lifetime', async () => {
    const h = harness();
    const first = h.resolver.resolve(vertex);
    h.calls[0]!.answer(200, { access_token: 'ya29.short', expires_in: 120 });
    await first;
    h.advance(59_000);
    expect(h.resolver.resolve(vertex)).toBe('ya29.short');
    expect(h.calls).toHaveLength(1);
    h.advance(2_000);
    expect(h.resolver.resolve(vertex)).toBe('ya29.short');
    expect(h.calls).toHaveLength(2);
  });

  it('a refused exchange is a 502 naming the provider; the next request tries again', async () => {
    const h = harness();
    const p = h.resolver.resolve(vertex);
    h.calls[0]!.answer(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    const err = await (p as Promise<string>).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'upstream_error', status: 502 });
    expect((err as Error).message).toContain(`provider "ai/vx" rejected the gateway's credential`);
    expect((err as Error).message).not.toContain('PRIVATE KEY');
    const again = h.resolver.resolve(vertex);
    expect(h.calls).toHaveLength(2);
    h.calls[1]!.answer(200, { access_token: 'ya29.ok', expires_in: 3600 });
    await expect(again).resolves.toBe('ya29.ok');
  });

  it('a transport failure names the provider and the token endpoint origin only', async () => {
    const h = harness();
    const p = h.resolver.resolve(vertex) as Promise<string>;
    h.calls[0]!.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await expect(p).rejects.toMatchObject({
      code: 'upstream_error',
      message:
        'provider "ai/vx" could not get an access token: token endpoint https://oauth2.example.test failed (ECONNREFUSED)',
    });
  });

  it('a failed background refresh keeps the old token and is retried by a later request', async () => {
    const h = harness();
    const first = h.resolver.resolve(vertex);
    h.calls[0]!.answer(200, { access_token: 'ya29.one', expires_in: 3600 });
    await first;
    h.advance(56 * 60_000);
    expect(h.resolver.resolve(vertex)).toBe('ya29.one');
    h.calls[1]!.answer(500, 'oops');
    await tick();
    expect(h.resolver.resolve(vertex)).toBe('ya29.one');
    expect(h.calls).toHaveLength(3);
  });

  it('keeps tokens per provider and starts over when the Secret changes', async () => {
    const h = harness();
    const other = provider('vertex-ai', sa.json, 'ai/other');
    const a = h.resolver.resolve(vertex);
    const b = h.resolver.resolve(other);
    expect(h.calls).toHaveLength(2);
    h.calls[0]!.answer(200, { access_token: 'ya29.a', expires_in: 3600 });
    h.calls[1]!.answer(200, { access_token: 'ya29.b', expires_in: 3600 });
    await expect(a).resolves.toBe('ya29.a');
    await expect(b).resolves.toBe('ya29.b');
    const rotated = testServiceAccount('https://oauth2.example.test/token');
    const c = h.resolver.resolve(provider('vertex-ai', rotated.json));
    expect(c).toBeInstanceOf(Promise);
    expect(decodeJwt(h.calls[2]!.form.get('assertion')!, rotated.publicKey).valid).toBe(true);
  });

  it('an unusable key file is a 502 naming the provider, without quoting the key', async () => {
    const h = harness();
    const bad = JSON.stringify({ type: 'service_account', client_email: 'x@y', private_key: 'not a key' });
    const p = h.resolver.resolve(provider('vertex-ai', bad)) as Promise<string>;
    await expect(p).rejects.toMatchObject({
      code: 'upstream_error',
      message: 'provider "ai/vx": its service-account key has a private_key that is not a PEM private key',
    });
    expect(h.calls).toHaveLength(0);
  });
});

/**
 * Request-path hardening: per-request inputs the proxy hands the (pure) translators, the default body limit,
 * and edge cases of client input and client behaviour. Real HTTP on loopback, official SDKs where they apply.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { adapterFor, translatorFor } from '../../dataplane/src/providers/index.js';
import type { StreamOptions, TranslateOptions } from '../../dataplane/src/providers/types.js';
import type { GatewayOptions } from '../../dataplane/src/server/gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway, type TestGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** One OpenAI-wire and one Anthropic-wire fake upstream behind a gateway; `gpt-4o` → oa, `claude*` → an. */
async function setup(options: GatewayOptions = {}): Promise<{ gw: TestGateway; oa: FakeUpstream; an: FakeUpstream }> {
  const oa = await FakeUpstream.start('oa');
  cleanups.push(() => oa.close());
  const an = await FakeUpstream.start('an');
  cleanups.push(() => an.close());
  const gw = await startGateway(
    gatewayConfig({
      providers: [
        provider({ name: 'oa', baseUrl: oa.openaiBaseUrl }),
        provider({ name: 'an', baseUrl: an.anthropicBaseUrl, type: 'anthropic' }),
      ],
      routes: [
        route({ name: 'gpt', models: ['gpt-4o'], backends: [{ provider: 'oa' }] }),
        route({ name: 'claude', models: ['claude*'], backends: [{ provider: 'an', model: 'claude-sonnet-4-5' }] }),
      ],
    }),
    options,
  );
  cleanups.push(() => gw.close());
  return { gw, oa, an };
}

describe('per-request translation inputs', () => {
  it('passes one now (epoch seconds) per request to the translators, for created', async () => {
    const seen: Array<number | undefined> = [];
    const { gw } = await setup({
      providers: {
        adapterFor,
        translatorFor: (format, wire, op) => {
          const t = translatorFor(format, wire, op);
          return {
            ...t,
            response: (body: unknown, o?: TranslateOptions) => {
              seen.push(o?.now);
              return t.response(body, o);
            },
            stream: (o: StreamOptions) => {
              seen.push(o.now);
              return t.stream(o);
            },
          };
        },
      },
    });
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    const before = Math.floor(Date.now() / 1000);
    const r = await openai.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] });
    const created: number[] = [];
    for await (const c of await openai.chat.completions.create({
      model: 'claude-x',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }))
      created.push(c.created);
    const after = Math.floor(Date.now() / 1000);
    expect(seen).toHaveLength(2);
    for (const now of seen) {
      expect(now).toBeGreaterThanOrEqual(before);
      expect(now).toBeLessThanOrEqual(after);
    }
    expect(r.created).toBe(seen[0]);
    expect(new Set(created)).toEqual(new Set([seen[1]]));
  });
});

describe('the default body limit (32 MiB)', () => {
  const MiB = 1024 * 1024;
  /** A valid chat body of exactly `bytes` bytes. */
  const chatOfSize = (bytes: number, model: string) => {
    const shell = JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: '' }] });
    return { model, max_tokens: 5, messages: [{ role: 'user' as const, content: 'x'.repeat(bytes - shell.length) }] };
  };

  it('answers 413 to a 33 MiB body in the client format, and serves one just under 32 MiB', async () => {
    const { gw, oa, an } = await setup();
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
    const big = chatOfSize(33 * MiB, 'gpt-4o');
    const e = (await openai.chat.completions.create(big).catch((err: unknown) => err)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(e.status).toBe(413);
    expect(e.code).toBe('body_too_large');
    expect(e.type).toBe('invalid_request_error');
    expect(e.message).toContain(`${32 * MiB} bytes`);
    const a = (await anthropic.messages
      .create(chatOfSize(33 * MiB, 'claude-x'))
      .catch((err: unknown) => err)) as InstanceType<typeof Anthropic.APIError>;
    expect(a).toBeInstanceOf(Anthropic.APIError);
    expect(a.status).toBe(413);
    expect(a.error).toEqual({ type: 'error', error: { type: 'request_too_large', message: expect.any(String) } });
    expect(oa.requests).toHaveLength(0);
    expect(an.requests).toHaveLength(0);

    // Just under the limit: read, parsed, validated and proxied.
    const under = chatOfSize(32 * MiB - 1024, 'gpt-4o');
    expect(Buffer.byteLength(JSON.stringify(under))).toBe(32 * MiB - 1024);
    const ok = await openai.chat.completions.create(under);
    expect(ok.choices[0]!.message.content).toBe('hello from oa');
    expect(oa.requests).toHaveLength(1);
    const m = await anthropic.messages.create(chatOfSize(32 * MiB - 1024, 'claude-x'));
    expect(m.content[0]).toMatchObject({ type: 'text', text: 'hello from an' });
  }, 60_000);
});

describe('client input edge cases (never reach an upstream)', () => {
  const post = async (gw: TestGateway, path: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    const r = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> };
  };
  const openAiErr = (code: string, param?: string) => ({
    error: expect.objectContaining({ code, type: 'invalid_request_error', ...(param ? { param } : {}) }),
  });
  const anthropicErr = { type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } };
  const user = [{ role: 'user', content: 'x' }];

  it('a JSON body that is not an object → 400 in both formats', async () => {
    const { gw, oa, an } = await setup();
    for (const text of ['[]', '"x"', 'null', '42', 'true']) {
      const o = await post(gw, '/v1/chat/completions', text);
      expect([text, o.status]).toEqual([text, 400]);
      expect(o.body).toMatchObject(openAiErr('invalid_request'));
      expect((o.body.error as { message: string }).message).toContain('must be a JSON object');
      const a = await post(gw, '/v1/messages', text);
      expect([text, a.status]).toEqual([text, 400]);
      expect(a.body).toEqual(anthropicErr);
    }
    expect(oa.requests.length + an.requests.length).toBe(0);
  });

  it('stream that is not a boolean, empty messages and a missing model → 400 naming the field, both formats', async () => {
    const { gw, oa, an } = await setup();
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [
        'stream',
        { model: 'gpt-4o', stream: 'yes', messages: user },
        { model: 'claude-x', max_tokens: 5, stream: 'yes', messages: user },
      ],
      ['messages', { model: 'gpt-4o', messages: [] }, { model: 'claude-x', max_tokens: 5, messages: [] }],
      ['model', { messages: user }, { max_tokens: 5, messages: user }],
    ];
    for (const [param, openaiBody, anthropicBody] of cases) {
      const o = await post(gw, '/v1/chat/completions', JSON.stringify(openaiBody));
      expect([param, o.status]).toEqual([param, 400]);
      expect(o.body).toMatchObject(openAiErr('invalid_request', param));
      expect((o.body.error as { message: string }).message).toContain(`${param}:`);
      const a = await post(gw, '/v1/messages', JSON.stringify(anthropicBody));
      expect([param, a.status]).toEqual([param, 400]);
      expect(a.body).toEqual(anthropicErr);
      expect((a.body.error as { message: string }).message).toContain(`${param}:`);
    }
    expect(oa.requests.length + an.requests.length).toBe(0);
  });

  it('bytes that are not UTF-8 → 400 (not silently replaced by U+FFFD and forwarded)', async () => {
    const { gw, oa, an } = await setup();
    const bad = (model: string, extra: string) =>
      Buffer.concat([
        Buffer.from(`{"model":"${model}",${extra}"messages":[{"role":"user","content":"caf`),
        Buffer.from([0xe9, 0xff]), // Latin-1 é and a byte that never occurs in UTF-8
        Buffer.from('"}]}'),
      ]);
    const o = await post(gw, '/v1/chat/completions', bad('gpt-4o', ''));
    expect(o.status).toBe(400);
    expect(o.body).toMatchObject(openAiErr('invalid_json'));
    expect((o.body.error as { message: string }).message).toContain('not valid UTF-8');
    const a = await post(gw, '/v1/messages', bad('claude-x', '"max_tokens":5,'));
    expect(a.status).toBe(400);
    expect(a.body).toEqual(anthropicErr);
    expect(oa.requests.length + an.requests.length).toBe(0);
    // Real UTF-8 (multi-byte) is fine.
    const ok = await post(
      gw,
      '/v1/chat/completions',
      JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'café ☕ 𝄞' }] }),
    );
    expect(ok.status).toBe(200);
    expect((oa.requests[0]!.body as { messages: Array<{ content: string }> }).messages[0]!.content).toBe('café ☕ 𝄞');
  });

  it('a compressed body → 415 saying to send it uncompressed', async () => {
    const { gzipSync } = await import('node:zlib');
    const { gw, oa } = await setup();
    const body = gzipSync(JSON.stringify({ model: 'gpt-4o', messages: user }));
    const o = await post(gw, '/v1/chat/completions', body, { 'content-encoding': 'gzip' });
    expect(o.status).toBe(415);
    expect(o.body).toMatchObject(openAiErr('unsupported_media_type'));
    expect((o.body.error as { message: string }).message).toContain('content-encoding gzip is not supported');
    const a = await post(gw, '/v1/messages', body, { 'content-encoding': 'gzip' });
    expect(a.status).toBe(415);
    expect(a.body).toEqual(anthropicErr);
    expect(oa.requests).toHaveLength(0);
    const plain = await post(gw, '/v1/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: user }), {
      'content-encoding': 'identity',
    });
    expect(plain.status).toBe(200);
  });

  it('JSON nested too deeply to forward → 400, never a 500 or a crash', async () => {
    const { gw } = await setup();
    const depth = 200_000;
    const text = `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const o = await post(gw, '/v1/chat/completions', text);
    expect(o.status).toBe(400);
    expect(o.body).toMatchObject(openAiErr('invalid_request'));
    expect((o.body.error as { message: string }).message).toBe('request body is nested too deeply');
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('answers on the error path', () => {
  it('a final upstream 429 passes retry-after through, with the x-tollgate headers, in both client formats', async () => {
    const { gw, oa, an } = await setup();
    const limited = {
      kind: 'json' as const,
      status: 429,
      headers: { 'retry-after': '3600' },
      body: { error: { message: 'Rate limit reached', type: 'rate_limit_error' } },
    };
    oa.enqueue(limited, limited, limited);
    const openai = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    const e = (await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err)) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(429);
    expect(e.message).toContain('Rate limit reached');
    expect(e.headers?.get('retry-after')).toBe('3600');
    expect(e.headers?.get('x-tollgate-route')).toBe('ai/gpt');
    expect(e.headers?.get('x-tollgate-backend')).toBe('oa/gpt-4o');
    expect(e.headers?.get('x-tollgate-attempts')).toBe('1'); // the wait does not fit the budget: no retry
    an.enqueue({
      kind: 'json',
      status: 429,
      headers: { 'retry-after': '3600' },
      body: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } },
    });
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
    const a = (await anthropic.messages
      .create({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err)) as InstanceType<typeof Anthropic.APIError>;
    expect(a.status).toBe(429);
    expect(a.error).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    expect(a.headers?.get('retry-after')).toBe('3600');
    expect(a.headers?.get('x-tollgate-route')).toBe('ai/claude');
    expect(a.headers?.get('x-tollgate-backend')).toBe('an/claude-sonnet-4-5');
  });

  it('errors after routing carry x-tollgate-route and attempts; errors before it carry none', async () => {
    const { gw } = await setup();
    // Routed, then refused by translation (a parameter Anthropic cannot take): no try was made.
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'claude-x', n: 2, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-tollgate-route')).toBe('ai/claude');
    expect(r.headers.get('x-tollgate-attempts')).toBe('0');
    expect(r.headers.get('x-tollgate-backend')).toBeNull();
    const unknown = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-tollgate-route')).toBeNull();
  });

  it('HEAD and OPTIONS: HEAD works where GET does, OPTIONS and HEAD on POST endpoints are 405 with allow', async () => {
    const { gw } = await setup();
    const models = await fetch(`${gw.url}/v1/models`, { method: 'HEAD' });
    expect(models.status).toBe(200);
    expect(Number(models.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await models.text()).toBe('');
    for (const path of ['/healthz', '/readyz'])
      expect((await fetch(`${gw.url}${path}`, { method: 'HEAD' })).status).toBe(200);
    const opt = await fetch(`${gw.url}/v1/chat/completions`, { method: 'OPTIONS' });
    expect(opt.status).toBe(405);
    expect(opt.headers.get('allow')).toBe('POST');
    expect(((await opt.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    const head = await fetch(`${gw.url}/v1/messages`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST');
    const del = await fetch(`${gw.url}/v1/models`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('model names a header cannot carry', () => {
  it('a prefix route passes non-ASCII and control characters through: x-tollgate-backend percent-encodes them', async () => {
    const oa = await FakeUpstream.start('oa');
    cleanups.push(() => oa.close());
    const gw = await startGateway(
      gatewayConfig({
        providers: [provider({ name: 'oa', baseUrl: oa.openaiBaseUrl })],
        routes: [route({ name: 'gpt', models: ['gpt-*'], backends: [{ provider: 'oa' }] })],
      }),
    );
    cleanups.push(() => gw.close());
    const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'hi' }];
    for (const model of ['gpt-模型', 'gpt-\u0001x', 'gpt-\ud800']) {
      const json = await client.chat.completions.create({ model, messages }).withResponse();
      expect(json.response.status).toBe(200);
      expect(json.response.headers.get('x-tollgate-backend')).toMatch(/^oa\/gpt-(%[0-9A-F]{2})+x?$/);
      const stream = await client.chat.completions.create({ model, messages, stream: true }).withResponse();
      expect(stream.response.status).toBe(200);
      let text = '';
      for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text.length).toBeGreaterThan(0);
    }
    expect(
      (await client.chat.completions.create({ model: 'gpt-模型', messages }).withResponse()).response.headers.get(
        'x-tollgate-backend',
      ),
    ).toBe('oa/gpt-%E6%A8%A1%E5%9E%8B');
  });
});

describe('client behaviour while uploading', () => {
  /** A raw HTTP/1.1 client: what SDKs cannot do (stop half-way, stream without a length). */
  async function rawSocket(port: number) {
    const { connect } = await import('node:net');
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    let received = '';
    sock.on('data', (d: Buffer) => {
      received += d.toString('latin1');
    });
    sock.on('error', () => {});
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    return { sock, closed, received: () => received };
  }

  it('a chunked body with no content-length that passes the default limit mid-stream → 413, connection closed', async () => {
    const { gw, oa } = await setup();
    const c = await rawSocket(gw.port);
    c.sock.write(
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
    );
    const piece = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    let closed = false;
    void c.closed.then(() => {
      closed = true;
    });
    // Up to 40 MiB, 1 MiB a chunk, until the gateway answers and closes.
    for (let i = 0; i < 40 && !closed && c.received() === ''; i++) {
      const ok = c.sock.write(
        Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]),
      );
      sent += piece.length;
      if (!ok) await Promise.race([new Promise((r) => c.sock.once('drain', r)), c.closed]);
    }
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(c.received()).toContain('"code":"body_too_large"');
    expect(sent).toBeGreaterThan(32 * 1024 * 1024);
    expect(sent).toBeLessThan(40 * 1024 * 1024);
    expect(oa.requests).toHaveLength(0);
  }, 60_000);

  it('a client that disconnects while its body is still uploading: nothing goes upstream, the gateway keeps serving', async () => {
    const seen: string[] = [];
    const { gw, oa } = await setup({
      hooks: {
        admission: {
          admit: () => {
            seen.push('admit');
            throw new Error('must not be reached');
          },
        },
        observe: () => {
          seen.push('observe');
          throw new Error('must not be reached');
        },
        rejected: (info) => {
          seen.push(`rejected:${info.status}`);
        },
      },
    });
    const c = await rawSocket(gw.port);
    c.sock.write(
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"model":"gpt-4o","messages":[',
    );
    await new Promise((r) => setTimeout(r, 50));
    c.sock.destroy();
    await c.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(oa.requests).toHaveLength(0);
    expect(seen).toEqual([]);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});

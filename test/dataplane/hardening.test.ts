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

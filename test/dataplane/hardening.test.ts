/**
 * Request-path hardening: per-request inputs the proxy hands the (pure) translators, the default body limit,
 * and edge cases of client input and client behaviour. Real HTTP on loopback, official SDKs where they apply.
 */
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

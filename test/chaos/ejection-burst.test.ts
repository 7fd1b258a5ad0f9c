/**
 * Issue 17: passive ejection must not escalate on one burst. Tries that were already in flight when a
 * backend was ejected fail after it; their failures belong to the burst that caused the ejection and must
 * neither extend nor escalate it. Escalation follows consecutive ejections (ejected, readmitted, failed again).
 * The health clock is injected: nothing waits for real time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream, openAiCompletion } from '../support/fake-upstream.js';
import { gatewayConfig, provider, route, startGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/**
 * A provider that answers at once with the status of `mode` (500: an error, 200: a completion), or, when
 * `mode` is 'hold', holds every request until `release`.
 */
class GatedUpstream {
  mode: 'hold' | 500 | 200 = 'hold';
  private readonly held: ServerResponse[] = [];
  private waiter: { n: number; resolve: () => void } | undefined;
  private readonly server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      if (this.mode !== 'hold') return answer(res, this.mode);
      this.held.push(res);
      if (this.waiter !== undefined && this.held.length >= this.waiter.n) this.waiter.resolve();
    });
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Resolves once `n` requests are held. */
  holding(n: number): Promise<void> {
    if (this.held.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = { n, resolve };
    });
  }

  /** Answers every held request with `status`. */
  release(status: 500 | 200): void {
    for (const res of this.held.splice(0)) answer(res, status);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function answer(res: ServerResponse, status: 500 | 200): void {
  const body = JSON.stringify(
    status === 200 ? openAiCompletion('hello from primary') : { error: { message: 'down', type: 'server_error' } },
  );
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

it('a burst of concurrent failures ejects once (30 s), not for 5 min; escalation needs a failure after readmission', async () => {
  const primary = new GatedUpstream();
  await primary.start();
  cleanups.push(() => primary.close());
  const fallback = await FakeUpstream.start('fallback');
  cleanups.push(() => fallback.close());
  let now = 1_000_000;
  const gw = await startGateway(
    gatewayConfig({
      providers: [
        provider({ name: 'primary', baseUrl: `http://127.0.0.1:${primary.port}/v1` }),
        provider({ name: 'fallback', baseUrl: fallback.openaiBaseUrl }),
      ],
      routes: [
        route({
          name: 'r',
          models: ['gpt-4o'],
          attempts: 1,
          backends: [
            { provider: 'primary', priority: 0 },
            { provider: 'fallback', priority: 1 },
          ],
        }),
      ],
    }),
    { health: { failureThreshold: 3, ejectMs: 30_000, maxEjectMs: 300_000, now: () => now } },
  );
  cleanups.push(() => gw.close());
  const client = new OpenAI({ baseURL: gw.openaiBaseURL, apiKey: 'unused', maxRetries: 0 });
  const chat = () => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  const backendOf = async () => (await chat().withResponse()).response.headers.get('x-tollgate-backend');

  // 12 tries in flight on the primary at once, then all of them fail: 4× the threshold in one burst.
  const burst = Array.from({ length: 12 }, () =>
    chat().then(
      () => 'ok',
      (e: unknown) => (e as InstanceType<typeof OpenAI.APIError>).status,
    ),
  );
  await primary.holding(12);
  primary.release(500);
  expect(await Promise.all(burst)).toEqual(Array(12).fill(502));

  // Ejected: the fallback answers.
  expect(await backendOf()).toBe('fallback/gpt-4o');
  // One ejection of 30 s, not four stacked ones (30+60+120+240 s): just after 30 s the primary is asked again.
  now += 30_001;
  primary.mode = 500;
  const again = await chat()
    .withResponse()
    .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
  expect(again).toBeInstanceOf(OpenAI.APIError);
  expect((again as InstanceType<typeof OpenAI.APIError>).headers?.get('x-tollgate-backend')).toBe('primary/gpt-4o');
  // Failing again after readmission is a repeated ejection: the cool-down doubles (60 s).
  await expect(chat()).rejects.toMatchObject({ status: 502 });
  await expect(chat()).rejects.toMatchObject({ status: 502 });
  now += 30_001;
  expect(await backendOf()).toBe('fallback/gpt-4o');
  now += 30_000;
  primary.mode = 200;
  expect(await backendOf()).toBe('primary/gpt-4o');
});

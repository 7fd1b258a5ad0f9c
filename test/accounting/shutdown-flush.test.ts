/**
 * A graceful stop loses no accounting: `tollgate run` (the real binary, bin/tollgate → dist/) gets SIGTERM
 * right after answering, and before it exits the request's spans reach the OTLP receiver (with a batch
 * delay far longer than the test, so only the shutdown flush can send them) and its quota settlement
 * reaches Redis (the counter holds the real usage, not the reservation).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import OpenAI from 'openai';
import { RedisStore } from '../../dataplane/src/accounting/quota/redis-store.js';
import { QuotaService } from '../../dataplane/src/accounting/quota/service.js';
import { FakeUpstream, openAiCompletion } from '../support/fake-upstream.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { startTollgateRun } from '../support/tollgate-process.js';

jest.setTimeout(60_000);

const KEY = 'tg-shutdown-flush-key-5d1e';

describe('tollgate run: SIGTERM flushes spans and quota settlements', () => {
  let upstream: FakeUpstream;
  let otlp: OtlpReceiver;
  let redis: RedisServer;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    [upstream, otlp, redis] = await Promise.all([FakeUpstream.start('flush'), OtlpReceiver.start(), startRedis()]);
    dir = mkdtempSync(join(tmpdir(), 'tollgate-flush-'));
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: oai }
spec: { type: openai-compatible, endpoint: "${upstream.openaiBaseUrl}" }
---
apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: chat }
spec:
  models: ["gpt-4o"]
  backends: [{ provider: oai }]
---
apiVersion: v1
kind: Secret
metadata: { name: flush-key, labels: { tollgate.dev/api-key: "true", team: flush } }
stringData: { key: ${KEY} }
---
apiVersion: tollgate.dev/v1alpha1
kind: QuotaPolicy
metadata: { name: tokens }
spec:
  selector: { matchLabels: { team: flush } }
  scope: shared
  limits: [{ tokens: 1000000, per: 1h }]
`,
    );
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([upstream.close(), otlp.close(), redis.dispose()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the last request is fully accounted after a graceful stop', async () => {
    const run = await startTollgateRun(dir, ['--redis', redis.url], {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'tollgate-flush',
      // Spans would leave after 10 minutes: only the shutdown flush can deliver them in time.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    child = run.child;
    const port = run.port;

    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: KEY, maxRetries: 0 });
    upstream.enqueue({ kind: 'json', body: openAiCompletion('flushed answer') });
    // max_tokens 500: the admission reserves ~500 + the prompt; the fake upstream reports 5 + 7 tokens.
    const r = await openai.chat.completions.create({
      model: 'gpt-4o',
      max_tokens: 500,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.choices[0]!.message.content).toBe('flushed answer');
    expect(otlp.spans).toHaveLength(0); // still queued in the gateway

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    // Both spans of the request arrived before the process was gone.
    const mine = otlp.spans.filter((s) => s.service === 'tollgate-flush');
    expect(mine.map((s) => s.kind).sort()).toEqual([2, 3]); // SERVER, CLIENT

    // The settlement replaced the reservation in Redis.
    const store = new RedisStore({ url: redis.url, timeoutMs: 2000 });
    const svc = new QuotaService({ store });
    svc.applyPolicies([
      {
        id: 'default/tokens',
        namespace: 'default',
        name: 'tokens',
        models: [],
        scope: 'shared',
        limits: [{ kind: 'tokens', amount: 1_000_000, window: { type: 'sliding', ms: 3_600_000 } }],
        failureMode: 'open',
        keys: ['default/flush-key'],
        matchesAnonymous: false,
      },
    ]);
    expect(await store.ready(5000)).toBe(true);
    const [tokens] = await svc.usage('default/tokens');
    await svc.close();
    expect(tokens!.used).toBe(12);
  });
});

/**
 * Chaos against the real `tollgate run` process (bin/tollgate → dist/, so `npm run build` first), as issue
 * 17 ran it: a low file-descriptor limit (`ulimit -n`) flooded with silent connections, and SIGTERM while a
 * stream runs. The flags under test are the ones a user passes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream, openAiStream } from '../support/fake-upstream.js';
import { startTollgateRun, type TollgateRun } from '../support/tollgate-process.js';
import { type RawClient, rawClient } from './net.js';

let upstream: FakeUpstream;
let dir: string;
let run: TollgateRun | undefined;

beforeAll(async () => {
  upstream = await FakeUpstream.start('chaos');
  dir = mkdtempSync(join(tmpdir(), 'tollgate-chaos-'));
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
`,
  );
});
afterEach(async () => {
  if (run !== undefined && run.child.exitCode === null) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
  run = undefined;
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

const ask = (port: number) =>
  fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });

it('nofile=256 and 400 silent connections: they are closed at the header timeout and new clients are served', async () => {
  // The shell's `ulimit -n` (POSIX, unlike prlimit) then exec: the gateway itself runs with 256 descriptors.
  run = await startTollgateRun(dir, ['--header-timeout', '1s'], {}, 20_000, [
    'sh',
    '-c',
    'ulimit -n 256 && exec "$0" "$@"',
  ]);
  const port = run.port;
  // The limit holds in the process that listens (Linux shows it in /proc).
  if (existsSync(`/proc/${run.child.pid}/limits`))
    expect(readFileSync(`/proc/${run.child.pid}/limits`, 'utf8')).toMatch(/Max open files\s+256\s+256/);
  const clients: RawClient[] = [];
  for (let i = 0; i < 400; i += 100)
    clients.push(...(await Promise.all(Array.from({ length: 100 }, () => rawClient(port)))));
  // Past the limit the process cannot accept more: those get closed or reset. All are gone in bounded time.
  const took = await Promise.all(clients.map((c) => c.closed));
  expect(Math.max(...took)).toBeLessThan(15_000);
  expect(clients.filter((c) => c.received().startsWith('HTTP/1.1 408 ')).length).toBeGreaterThan(100);
  const res = await ask(port);
  expect(res.status).toBe(200);
  expect(run.child.exitCode).toBeNull();
}, 40_000);

it('SIGTERM with --shutdown-grace 500ms: the running stream ends with an error event, logged as shutting_down; exit 0', async () => {
  run = await startTollgateRun(dir, ['--shutdown-grace', '500ms']);
  const adminPort = Number(/"msg":"tollgate run listening"[^\n]*"adminPort":(\d+)/.exec(run.stderr())?.[1]);
  expect(adminPort).toBeGreaterThan(0);
  expect((await fetch(`http://127.0.0.1:${run.port}/metrics`)).status).toBe(404);
  expect(await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text()).toContain(
    '# TYPE tollgate_requests_total',
  );

  const words = Array.from({ length: 100 }, (_, i) => `w${i} `).join('');
  upstream.enqueue({ kind: 'sse', chunks: openAiStream(words, 'gpt-4o', { delayMs: 100 }) });
  const openai = new OpenAI({ baseURL: `http://127.0.0.1:${run.port}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'go' }],
    stream: true,
  });
  let text = '';
  let err: unknown;
  let signalled = 0;
  try {
    for await (const c of stream) {
      if (signalled === 0) {
        signalled = performance.now();
        run.child.kill('SIGTERM');
      }
      text += c.choices[0]?.delta.content ?? '';
    }
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OpenAI.APIError);
  expect((err as Error).message).toContain('the gateway is shutting down');
  expect(performance.now() - signalled).toBeLessThan(5000);
  expect(text.length).toBeGreaterThan(0);
  expect(await run.exited).toBe(0);
  const lines = run
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"type":"access"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = lines.at(-1)!;
  expect(last).toMatchObject({ status: 200, error: 'shutting_down' });
  expect(lines.some((l) => l.status === 499)).toBe(false);
}, 40_000);

/**
 * `tollgate run` as a user runs it: the real binary (bin/tollgate → dist/, so `npm run build` first) on a
 * temp config, a fake upstream on loopback, reloads on file change, keeps the last good config on a bad one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../support/fake-upstream.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'tollgate');

interface Proc {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function startRun(args: string[]): Proc {
  // --admin-port 0: test processes run side by side, each with its own admin server.
  const child = spawn(bin, ['run', '--admin-port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TOLLGATE_LOG_LEVEL: 'info' },
  });
  const logs: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ text: line });
      }
      i = buf.indexOf('\n');
    }
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, logs, exited };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const provider = (endpoint: string) => `apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: sim }
spec: { type: openai-compatible, endpoint: "${endpoint}" }
`;
const route = (name: string, model: string) => `---
apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: ${name} }
spec:
  models: ["${model}"]
  backends: [{ provider: sim }]
`;

describe('tollgate run', () => {
  let dir: string;
  let upstream: FakeUpstream;
  let proc: Proc | undefined;

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist', 'bin', 'cli.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
    upstream = await FakeUpstream.start('sim');
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-run-'));
  });
  afterEach(async () => {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    proc = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await upstream.close();
  });

  const chat = (port: number, model: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('serves, reloads on change, keeps the last good config on a bad change, and stops on SIGTERM', async () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, provider(upstream.openaiBaseUrl) + route('one', 'model-one'));
    proc = startRun(['-f', dir, '--port', '0', '--host', '127.0.0.1']);
    const p = proc;
    const started = await until('the listening log line', () => p.logs.find((l) => l.msg === 'tollgate run listening'));
    const port = started.port as number;
    expect(started).toMatchObject({ routes: 1, providers: 1, apiKeys: 0, files: [file] });
    expect(p.logs.some((l) => l.level === 'warn' && String(l.msg).includes('OPEN'))).toBe(true);

    await until('readyz', async () =>
      (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined,
    );
    const one = await chat(port, 'model-one');
    expect(one.status).toBe(200);
    expect(one.headers.get('x-tollgate-route')).toBe('default/one');
    expect((await chat(port, 'model-two')).status).toBe(404);

    // Add a route: served after the reload.
    writeFileSync(file, provider(upstream.openaiBaseUrl) + route('one', 'model-one') + route('two', 'model-two'));
    await until('the new route', async () => ((await chat(port, 'model-two')).status === 200 ? true : undefined));

    // A YAML syntax error: logged with file:line, the old config keeps serving.
    writeFileSync(file, `${provider(upstream.openaiBaseUrl)}---\nkind: [\n`);
    const rejected = await until('the rejection log', () =>
      p.logs.find((l) => l.msg === 'config change rejected; still serving the last good config'),
    );
    expect(String(rejected.err)).toMatch(/gateway\.yaml:\d+:\d+: YAML syntax error/);
    expect((await chat(port, 'model-one')).status).toBe(200);
    expect((await chat(port, 'model-two')).status).toBe(200);

    // An API key appears: every request now needs a key.
    writeFileSync(
      file,
      `${provider(upstream.openaiBaseUrl)}${route('one', 'model-one')}---
apiVersion: v1
kind: Secret
metadata: { name: k, labels: { tollgate.dev/api-key: "true" } }
stringData: { key: tg-fake-run-test-key }
`,
    );
    await until('keys required', async () => ((await chat(port, 'model-one')).status === 401 ? true : undefined));
    expect((await chat(port, 'model-one', { authorization: 'Bearer tg-fake-run-test-key' })).status).toBe(200);
    expect(JSON.stringify(p.logs)).not.toContain('tg-fake-run-test-key');

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('exits 1 with file:line when the first load fails, and 2 on bad flags', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'kind: [\n');
    proc = startRun(['-f', dir, '--port', '0']);
    expect(await proc.exited).toBe(1);
    expect(JSON.stringify(proc.logs)).toMatch(/bad\.yaml:\d+:\d+: YAML syntax error/);

    const flags = startRun(['--port', '99999', '-f', dir]);
    expect(await flags.exited).toBe(2);
  });
});

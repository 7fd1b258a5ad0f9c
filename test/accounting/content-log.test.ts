/**
 * Opt-in prompt/completion logging, as a user runs it: the real `tollgate run` binary (bin/tollgate → dist/,
 * so `npm run build` first) with the official SDKs as clients and a fake upstream. Everything the process
 * writes (stdout: the access log; stderr: other logs) is searched for the prompt, the completion and the key.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { jest } from '@jest/globals';
import OpenAI from 'openai';
import {
  anthropicMessage,
  anthropicStream,
  FakeUpstream,
  openAiCompletion,
  openAiStream,
} from '../support/fake-upstream.js';
import { startTollgateRun } from '../support/tollgate-process.js';

jest.setTimeout(60_000);

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'tollgate');

const KEY = 'tg-content-log-test-key-7f3a9c';
const PROMPT = 'PROMPT-MARKER-d41d8cd9 what is the capital of France?';
const ANSWER = 'COMPLETION-MARKER-8f00b204 Paris is the capital.';

type Line = Record<string, unknown>;

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  port: number;
  exited: Promise<number | null>;
  /** Parsed access-log lines so far. */
  access(): Line[];
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function config(openaiUrl: string, anthropicUrl: string): string {
  return `apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: oai }
spec: { type: openai-compatible, endpoint: "${openaiUrl}" }
---
apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: claude }
spec: { type: anthropic, endpoint: "${anthropicUrl}" }
---
apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: chat }
spec:
  models: ["gpt-4o"]
  backends: [{ provider: oai }]
---
apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: claude }
spec:
  models: ["claude-test"]
  backends: [{ provider: claude }]
---
apiVersion: v1
kind: Secret
metadata: { name: research-key, labels: { tollgate.dev/api-key: "true", team: research } }
stringData: { key: ${KEY} }
`;
}

describe('access log content (tollgate run)', () => {
  let dir: string;
  let upstream: FakeUpstream;
  let run: Run | undefined;

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist', 'bin', 'cli.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
    upstream = await FakeUpstream.start('content');
    dir = mkdtempSync(join(tmpdir(), 'tollgate-content-'));
    writeFileSync(join(dir, 'gateway.yaml'), config(upstream.openaiBaseUrl, upstream.anthropicBaseUrl));
  });
  afterEach(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    run = undefined;
    upstream.reset();
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const t = await startTollgateRun(dir, args, { TOLLGATE_LOG_CONTENT: '', ...env });
    const r: Run = {
      child: t.child,
      get stdout() {
        return t.stdout();
      },
      get stderr() {
        return t.stderr();
      },
      port: t.port,
      exited: t.exited,
      access: () =>
        t
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Line)
          .filter((l) => l.type === 'access'),
    };
    run = r;
    return r;
  }

  /** A non-stream and a stream chat with each SDK, then a 404 for an unknown model. */
  async function traffic(r: Run, prompt: string, answer: string): Promise<void> {
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${r.port}/v1`, apiKey: KEY, maxRetries: 0 });
    upstream.enqueue({ kind: 'json', body: openAiCompletion(answer) });
    const one = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: prompt },
      ],
    });
    expect(one.choices[0]!.message.content).toBe(answer);

    // The upstream reports usage: the completion is still logged when asked (it used to be kept only without usage).
    upstream.enqueue({ kind: 'sse', chunks: openAiStream(answer) });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: prompt }],
    });
    let streamed = '';
    for await (const c of stream) streamed += c.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(answer);

    const anthropic = new Anthropic({ baseURL: `http://127.0.0.1:${r.port}`, apiKey: KEY, maxRetries: 0 });
    upstream.enqueue({ kind: 'json', body: anthropicMessage(answer) });
    const plain = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 50,
      messages: [{ role: 'user', content: prompt }],
    });
    expect(plain.content[0]).toMatchObject({ type: 'text', text: answer });
    upstream.enqueue({ kind: 'sse', chunks: anthropicStream(answer) });
    const msg = await anthropic.messages
      .stream({ model: 'claude-test', max_tokens: 50, messages: [{ role: 'user', content: prompt }] })
      .finalMessage();
    expect(msg.content[0]).toMatchObject({ type: 'text', text: answer });

    const missing = await openai.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: prompt }] })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);

    await until('five access-log lines', () => (r.access().length >= 5 ? true : undefined));
  }

  it('logs no prompt or completion by default, and never the key', async () => {
    const r = await start([]);
    await traffic(r, PROMPT, ANSWER);
    const lines = r.access();
    expect(lines.map((l) => l.status)).toEqual([200, 200, 200, 200, 404]);
    for (const l of lines) {
      expect(l.request).toBeUndefined();
      expect(l.completion).toBeUndefined();
    }
    for (const text of [r.stdout, r.stderr]) {
      expect(text).not.toContain('PROMPT-MARKER-d41d8cd9');
      expect(text).not.toContain('COMPLETION-MARKER-8f00b204');
      expect(text).not.toContain(KEY);
    }
    expect(r.stderr).not.toContain('content logging is on');
  });

  it('--log-content: the prompt and the completion of each request, streams too, never the key', async () => {
    const r = await start(['--log-content']);
    const warning = JSON.parse(r.stderr.split('\n').find((l) => l.includes('content logging is on'))!) as Line;
    expect(warning).toMatchObject({ level: 'warn', maxBytes: 16384 });

    await traffic(r, PROMPT, ANSWER);
    const [plain, stream, claude, claudeStream, missing] = r.access();
    expect(JSON.parse(plain!.request as string)).toEqual({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: PROMPT },
      ],
    });
    expect(plain).toMatchObject({ status: 200, stream: false, completion: ANSWER, input_tokens: 5, team: 'research' });
    expect(stream).toMatchObject({ status: 200, stream: true, completion: ANSWER, output_tokens: 7 });
    expect(JSON.parse(stream!.request as string)).toEqual({ messages: [{ role: 'user', content: PROMPT }] });
    expect(claude).toMatchObject({ status: 200, stream: false, completion: ANSWER, route: 'default/claude' });
    expect(claudeStream).toMatchObject({ status: 200, stream: true, completion: ANSWER, route: 'default/claude' });
    // Refused before routing: the prompt is there, there is no completion.
    expect(missing).toMatchObject({ status: 404, error: 'model_not_found' });
    expect(JSON.parse(missing!.request as string)).toEqual({ messages: [{ role: 'user', content: PROMPT }] });
    expect(missing!.completion).toBeUndefined();
    for (const l of r.access()) {
      expect(l.request_truncated).toBeUndefined();
      expect(l.completion_truncated).toBeUndefined();
    }
    expect(r.stdout).not.toContain(KEY);
    expect(r.stderr).not.toContain(KEY);
    // Other logs (stderr) never carry content.
    expect(r.stderr).not.toContain('PROMPT-MARKER-d41d8cd9');
  });

  it('TOLLGATE_LOG_CONTENT=true with a cap: cut to the cap and marked', async () => {
    const r = await start(['--log-content-max-bytes', '64'], { TOLLGATE_LOG_CONTENT: 'true' });
    const longPrompt = `${PROMPT} ${'é'.repeat(200)}`;
    const longAnswer = `${ANSWER} ${'word '.repeat(100)}`.trim();
    await traffic(r, longPrompt, longAnswer);
    const lines = r.access();
    expect(lines).toHaveLength(5);
    for (const l of lines) {
      expect(l.request_truncated).toBe(true);
      expect(Buffer.byteLength(l.request as string)).toBeLessThanOrEqual(64);
      expect(l.request as string).toMatch(/^\{"messages":\[\{"role":"/);
    }
    for (const l of lines.slice(0, 4)) {
      expect(l.completion_truncated).toBe(true);
      expect(Buffer.byteLength(l.completion as string)).toBeLessThanOrEqual(64);
      expect(longAnswer.startsWith(l.completion as string)).toBe(true);
    }
    expect(r.stdout).not.toContain(KEY);
  });

  it('refuses a TOLLGATE_LOG_CONTENT it cannot read', async () => {
    const child = spawn(bin, ['run', '-f', dir, '--port', '0', '--admin-port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TOLLGATE_LOG_CONTENT: 'maybe' },
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('TOLLGATE_LOG_CONTENT must be true or false');
  });
});

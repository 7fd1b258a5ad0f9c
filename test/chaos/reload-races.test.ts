/**
 * File-reload races against the real `tollgate run` (issue 17 items 1 and 2; ADR 0054, 0055). The config file
 * is rewritten in place the ways a reader can catch it half done: 100 rewrites back to back, truncated at
 * every line end and inside the key Secret's lines, emptied, and written slowly chunk by chunk through one
 * open descriptor. After each
 * write the test waits until the gateway has read that very content (its `config files read` debug line
 * with the byte count, or its rejection), lets requests from the official OpenAI SDK hit that state, then
 * completes the file. Throughout, no request without a key is served, no keyed request is lost and
 * /readyz stays 200.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import OpenAI from 'openai';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTollgateRun, type TollgateRun } from '../support/tollgate-process.js';

jest.setTimeout(150_000);

const KEY = 'tg-chaos-reload-key-0123456789abcdef';
const MODEL = 'chaos-model';

const config = (endpoint: string, provider = 'sim') => `apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: sim }
spec: { type: openai-compatible, endpoint: "${endpoint}" }
---
apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: chat }
spec: { models: ["${MODEL}"], backends: [{ provider: ${provider} }] }
---
apiVersion: v1
kind: Secret
metadata:
  name: client-key
  labels: { tollgate.dev/api-key: "true" }
stringData:
  key: ${KEY}
`;

/** Polls a condition (the event the test waits for); fails after `ms`. */
async function until(what: string, pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Tally {
  keyedOk: number;
  keyedLost: number[];
  anonRefused: number;
  anonServed: number;
  readyOk: number;
  readyBad: number[];
}

/** Requests in a loop until `stop.done`: one with the key, one without, and a /readyz, each round. */
async function traffic(port: number, stop: { done: boolean }, tally: Tally): Promise<void> {
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const keyed = new OpenAI({ baseURL, apiKey: KEY, maxRetries: 0 });
  const anon = new OpenAI({ baseURL, apiKey: 'not-a-tollgate-key', maxRetries: 0 });
  const status = async (client: OpenAI): Promise<number> => {
    try {
      const { response } = await client.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      return response.status;
    } catch (err) {
      if (err instanceof OpenAI.APIError) return err.status ?? 0;
      throw err;
    }
  };
  while (!stop.done) {
    const k = await status(keyed);
    if (k === 200) tally.keyedOk++;
    else tally.keyedLost.push(k);
    const a = await status(anon);
    if (a === 401) tally.anonRefused++;
    else tally.anonServed++;
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (res) => res.status,
      () => 0,
    );
    if (r === 200) tally.readyOk++;
    else tally.readyBad.push(r);
  }
}

/** The gateway's log lines (JSON on stderr) from line `from` on. */
function logsSince(run: TollgateRun, from: number): Array<Record<string, unknown>> {
  return run
    .stderr()
    .split('\n')
    .slice(from)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
const lineCount = (run: TollgateRun) => run.stderr().split('\n').length - 1;

describe('tollgate run: reload races (real process, real files, OpenAI SDK)', () => {
  let upstream: FakeUpstream;
  let dir: string;
  let run: TollgateRun | undefined;
  let stop = { done: true };

  beforeAll(async () => {
    upstream = await FakeUpstream.start('sim');
  });
  afterAll(async () => {
    await upstream.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-chaos-'));
  });
  afterEach(async () => {
    stop.done = true;
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    run = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('never serves a request open or loses one while the file is cut short, emptied or written slowly in place', async () => {
    const file = join(dir, 'gateway.yaml');
    const full = config(upstream.openaiBaseUrl);
    writeFileSync(file, full);
    run = await startTollgateRun(dir, [], { TOLLGATE_LOG_LEVEL: 'debug' });
    const r = run;
    const tally: Tally = { keyedOk: 0, keyedLost: [], anonRefused: 0, anonServed: 0, readyOk: 0, readyBad: [] };
    stop = { done: false };
    const load = traffic(r.port, stop, tally);
    await until('first requests', () => tally.keyedOk + tally.keyedLost.length > 0);

    /** Waits until the gateway has read `bytes` bytes of config, or rejected the files, after line `from`. */
    const readOrRejected = (from: number, bytes: number) =>
      until(`the gateway to read ${bytes} bytes`, () =>
        logsSince(r, from).some(
          (l) =>
            (l.msg === 'config files read' && l.bytes === bytes) ||
            l.msg === 'config change rejected; still serving the last good config',
        ),
      );
    /** Waits until requests were answered while the files are in the state just read. */
    const someRequests = async () => {
      const seen = tally.anonRefused + tally.anonServed;
      await until('requests during the cut', () => tally.anonRefused + tally.anonServed >= seen + 1);
    };
    const restore = async () => {
      const from = lineCount(r);
      writeFileSync(file, full);
      await until('the full file read back', () =>
        logsSince(r, from).some((l) => l.msg === 'config files read' && l.bytes === Buffer.byteLength(full)),
      );
    };

    // 0. As the issue measured it: 100 in-place rewrites of the same content, back to back, paced only by
    // the requests in flight (each rewrite truncates, then writes; the gateway reads whatever it catches).
    for (let i = 0; i < 100; i++) {
      writeFileSync(file, full);
      await someRequests();
    }
    await restore();

    // 1. Truncated in place: at every line end, and inside every line of the key Secret.
    const cuts = new Set<number>([0]);
    for (let i = full.indexOf('\n'); i !== -1 && i < full.length - 1; i = full.indexOf('\n', i + 1)) cuts.add(i + 1);
    const secretAt = full.indexOf('kind: Secret');
    for (let i = secretAt; i < full.length - 1; i += 9) cuts.add(i);
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const from = lineCount(r);
      writeFileSync(file, full.slice(0, cut));
      await readOrRejected(from, cut);
      await someRequests();
      await restore();
    }

    // 2. A slow in-place write through one descriptor: truncated, then chunk by chunk, each chunk read.
    const fd = openSync(file, 'w');
    try {
      let written = 0;
      let from = lineCount(r);
      await readOrRejected(from, 0);
      for (const end of [40, 130, 250, secretAt + 20, full.length - 10, full.length]) {
        from = lineCount(r);
        written += writeSync(fd, full.slice(written, end));
        await readOrRejected(from, written);
        await someRequests();
      }
    } finally {
      closeSync(fd);
    }

    // 3. A working route edited to name a missing provider: its last good version keeps serving.
    const edited = config(upstream.openaiBaseUrl, 'no-such-provider');
    const from = lineCount(r);
    writeFileSync(file, edited);
    await readOrRejected(from, Buffer.byteLength(edited));
    await someRequests();
    await restore();
    stop.done = true;
    await load;
    const byStatus = (list: number[]) => {
      const out: Record<string, number> = {};
      for (const st of list) out[st] = (out[st] ?? 0) + 1;
      return out;
    };
    expect({
      servedWithoutKey: tally.anonServed,
      lostKeyedByStatus: byStatus(tally.keyedLost),
      notReadyByStatus: byStatus(tally.readyBad),
    }).toEqual({ servedWithoutKey: 0, lostKeyedByStatus: {}, notReadyByStatus: {} });
    expect(tally.anonRefused).toBeGreaterThan(cuts.size);
    expect(tally.keyedOk).toBeGreaterThan(cuts.size);
    // Nothing short was ever applied: the config never went open and no reload removed anything.
    const logs = logsSince(r, 0);
    expect(logs.filter((l) => l.msg === 'config reloaded')).toEqual([]);
    expect(
      logsSince(r, from).find((l) => l.msg === 'change to a resource rejected; still serving its previous version'),
    ).toMatchObject({ resource: 'LLMRoute default/chat', condition: 'ResolvedRefs', reason: 'BackendNotFound' });
    expect(logs.some((l) => l.level === 'warn' && String(l.msg).includes('once the files stop changing'))).toBe(true);
  });

  it('/readyz is 503 with the reason while the config serves no route, 200 once it does', async () => {
    const file = join(dir, 'gateway.yaml');
    const noRoute = config(upstream.openaiBaseUrl)
      .split('---\n')
      .filter((doc) => !doc.includes('kind: LLMRoute'))
      .join('---\n');
    expect(noRoute).not.toContain('LLMRoute');
    writeFileSync(file, noRoute);
    run = await startTollgateRun(dir);
    const ready = await fetch(`http://127.0.0.1:${run.port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/serves no route: every request would get 404/);
    writeFileSync(file, config(upstream.openaiBaseUrl));
    const port = run.port;
    await until('readyz 200', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);
  });
});

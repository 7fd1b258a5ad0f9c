/**
 * The measurements: HTTP load with wrk (a Lua script POSTs the body and prints exact percentiles as
 * JSON), time to first token of streams, and RSS while many slow streams are open (both with undici).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, Pool, request } from 'undici';
import { runToEnd, sleep, treeRss } from './proc.js';

/** Where a target listens and what every request to it carries. */
export interface Endpoint {
  /** e.g. http://127.0.0.1:8080 (paths below are /v1/chat/completions). */
  origin: string;
  /** Path prefix before /chat/completions, e.g. /v1. */
  prefix: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Latency percentiles in microseconds. */
  p50us: number;
  p99us: number;
  /** Non-2xx answers plus socket errors. */
  errors: number;
}

export function chatBody(model: string, stream = false): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a benchmark.' },
      { role: 'user', content: 'Say something short about load testing gateways on loopback.' },
    ],
    ...(stream ? { stream: true } : {}),
  });
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function wrkScript(ep: Endpoint, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const file = join(dir, 'post.lua');
  const headers = Object.entries({ 'content-type': 'application/json', ...ep.headers })
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join('\n');
  writeFileSync(
    file,
    `wrk.method = "POST"
wrk.body = ${luaString(body)}
${headers}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
`,
  );
  return file;
}

/** One wrk run (single thread: on 2 cores the load generator must stay light). */
export async function wrkRun(
  wrk: string,
  ep: Endpoint,
  body: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const script = wrkScript(ep, body);
  const r = await runToEnd(
    wrk,
    [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      `${ep.origin}${ep.prefix}/chat/completions`,
    ],
    { timeoutMs: (seconds + 30) * 1000 },
  );
  const m = /BENCH_JSON (\{.*\})/.exec(r.out);
  if (r.code !== 0 || m === null) throw new Error(`wrk failed (exit ${r.code}): ${r.out.trim().slice(-300)}`);
  const j = JSON.parse(m[1]!) as { requests: number; duration_us: number; p50: number; p99: number; errors: number };
  const secs = j.duration_us / 1e6;
  return { requests: j.requests, seconds: secs, rps: j.requests / secs, p50us: j.p50, p99us: j.p99, errors: j.errors };
}

/** Fallback load generator in Node (undici), used only when wrk cannot be had; it competes for CPU. */
export async function nodeRun(ep: Endpoint, body: string, connections: number, seconds: number): Promise<LoadResult> {
  const pool = new Pool(ep.origin, { connections, pipelining: 1 });
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        const r = await pool.request({
          method: 'POST',
          path: `${ep.prefix}/chat/completions`,
          headers: { 'content-type': 'application/json', ...ep.headers },
          body,
        });
        await r.body.dump();
        if (r.statusCode >= 300) errors++;
      } catch {
        errors++;
      }
      lat.push((performance.now() - s) * 1000);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const secs = (performance.now() - t0) / 1000;
  await pool.destroy();
  lat.sort((a, b) => a - b);
  return {
    requests: lat.length,
    seconds: secs,
    rps: lat.length / secs,
    p50us: pct(lat, 50),
    p99us: pct(lat, 99),
    errors,
  };
}

export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** True once the text holds a non-empty content token (OpenAI chunk) — the "first token". */
const FIRST_TOKEN = /"content":"[^"]/;

/**
 * Time to first token (ms) of `count` sequential streams on one kept-alive connection: from sending the
 * request to receiving the first chunk that carries content. Returns the sorted samples.
 */
export async function ttftRun(
  ep: Endpoint,
  model: string,
  count: number,
): Promise<{ samples: number[]; errors: number; firstError?: string }> {
  let firstError: string | undefined;
  const pool = new Pool(ep.origin, { connections: 1 });
  const body = chatBody(model, true);
  const samples: number[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    try {
      const r = await pool.request({
        method: 'POST',
        path: `${ep.prefix}/chat/completions`,
        headers: { 'content-type': 'application/json', ...ep.headers },
        body,
      });
      if (r.statusCode !== 200) {
        errors++;
        const text = await r.body.text();
        firstError ??= `HTTP ${r.statusCode}: ${text.slice(0, 160)}`;
        continue;
      }
      let text = '';
      let got = false;
      for await (const chunk of r.body) {
        if (!got) {
          text += (chunk as Buffer).toString('utf8');
          if (FIRST_TOKEN.test(text)) {
            samples.push(performance.now() - t0);
            got = true;
          }
        }
      }
      if (!got) {
        errors++;
        firstError ??= `HTTP 200 but no content token: ${text.slice(0, 160)}`;
      }
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  }
  await pool.destroy();
  samples.sort((a, b) => a - b);
  return firstError === undefined ? { samples, errors } : { samples, errors, firstError };
}

export interface HoldResult {
  /** Streams that had delivered their first token when RSS was read. */
  open: number;
  rssBytes: number;
  idleRssBytes: number;
}

/**
 * Opens `count` concurrent slow streams through the target, waits until they are all flowing (or the
 * deadline passes), reads the RSS of the gateway's process tree, then aborts them all.
 */
export async function holdStreams(ep: Endpoint, model: string, count: number, pid: number, timeoutMs: number) {
  const idleRssBytes = treeRss(pid);
  const agent = new Agent({ connections: count + 16, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: 0 });
  const ac = new AbortController();
  const body = chatBody(model, true);
  let open = 0;
  const one = async () => {
    try {
      const r = await request(`${ep.origin}${ep.prefix}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ep.headers },
        body,
        dispatcher: agent,
        signal: ac.signal,
      });
      let text = '';
      let counted = false;
      for await (const chunk of r.body) {
        if (!counted) {
          text += (chunk as Buffer).toString('utf8');
          if (r.statusCode === 200 && FIRST_TOKEN.test(text)) {
            open++;
            counted = true;
            text = '';
          }
        }
      }
    } catch {
      // aborted at the end, or refused: not counted as open
    }
  };
  const all = Array.from({ length: count }, one);
  const deadline = Date.now() + timeoutMs;
  while (open < count && Date.now() < deadline) await sleep(250);
  await sleep(500); // let allocations settle with every stream flowing
  const rssBytes = treeRss(pid);
  const held = open;
  ac.abort();
  await Promise.allSettled(all);
  await agent.destroy();
  return { open: held, rssBytes, idleRssBytes } satisfies HoldResult;
}

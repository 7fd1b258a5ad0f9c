/**
 * `npm run bench [-- --quick] [-- --only tollgate,bare]`: one table, one run, one set of simulated
 * upstreams, every gateway measured the same way in turn. Writes .bench/results.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chatBody, type Endpoint, holdStreams, type LoadResult, nodeRun, pct, ttftRun, wrkRun } from './measure.js';
import { freePort, type Proc, runToEnd, startProc, stopAll, waitFor, which } from './proc.js';
import { ALL_TARGETS, type Context, cacheRoot, MODELS, type ModelName, type Started } from './targets.js';

const DIRECT = 'direct';
const FLOOR = 'bare';
/** The rows the Tollgate targets are checked on. */
const TOLLGATE_ROWS = ['tollgate', 'tollgate-acc', 'tollgate-redis'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Settings {
  warmSeconds: number;
  throughputSeconds: number;
  latencySeconds: number;
  ttftStreams: number;
  slowStreams: number;
  connections: number;
}

const FULL: Settings = {
  warmSeconds: 3,
  throughputSeconds: 10,
  latencySeconds: 8,
  ttftStreams: 300,
  slowStreams: 1000,
  connections: 32,
};
const QUICK: Settings = {
  warmSeconds: 1,
  throughputSeconds: 3,
  latencySeconds: 2,
  ttftStreams: 40,
  slowStreams: 1000,
  connections: 32,
};

export interface Row {
  target: string;
  available: boolean;
  reason?: string;
  rps?: number;
  throughputErrors?: number;
  p50us?: number;
  p99us?: number;
  addedP50us?: number;
  ttftP50ms?: number;
  addedTtftMs?: number;
  rssMB?: number;
  idleRssMB?: number;
  streamsOpen?: number;
  /** Requests the row answered in all its measurements (for the span count). */
  requestsServed?: number;
  notes: string[];
}

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function ensureWrk(): Promise<string | undefined> {
  let wrk = which('wrk');
  if (wrk) return wrk;
  if (process.getuid?.() === 0 && which('apt-get')) {
    log('installing wrk from Debian (apt-get install -y wrk) ...');
    let r = await runToEnd('apt-get', ['install', '-y', '-qq', 'wrk'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.code !== 0) {
      await runToEnd('apt-get', ['update', '-qq']);
      r = await runToEnd('apt-get', ['install', '-y', '-qq', 'wrk'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    }
    wrk = which('wrk');
    if (wrk) return wrk;
    log(`apt-get install wrk failed: ${r.out.trim().slice(-200)}`);
  }
  log(
    'wrk is not available (install it: apt-get install wrk); falling back to a Node.js load generator (less accurate)',
  );
  return undefined;
}

async function startSimulators(): Promise<{ upstreams: Record<ModelName, string>; procs: Proc[] }> {
  const cli = join(root, 'dist/bin/cli.js');
  const flags: Record<ModelName, string[]> = {
    // Non-streaming throughput and latency: answers at once.
    [MODELS.fast]: ['--output-tokens', '16'],
    // Time to first token: a short paced stream.
    [MODELS.stream]: ['--output-tokens', '4', '--chunk-interval', '2ms'],
    // Slow streams held open for the memory measurement: one token a second for ten minutes.
    [MODELS.slow]: ['--output-tokens', '600', '--chunk-interval', '1s'],
  };
  const upstreams = {} as Record<ModelName, string>;
  const procs: Proc[] = [];
  for (const [model, f] of Object.entries(flags) as [ModelName, string[]][]) {
    const port = await freePort();
    const p = startProc(process.execPath, [cli, 'simulate', '--port', String(port), ...f]);
    procs.push(p);
    upstreams[model] = `http://127.0.0.1:${port}`;
    await waitFor(`simulator ${model}`, p, 10_000, async () => (await fetch(`${upstreams[model]}/healthz`)).ok);
  }
  return { upstreams, procs };
}

/** A tiny OTLP/HTTP receiver: accepts every export, counts exports and spans (cheaply: by key), discards them. */
async function startOtlpSink(): Promise<{
  url: string;
  server: Server;
  exports: { traces: number; spans: number; metrics: number };
}> {
  const exports = { traces: 0, spans: 0, metrics: 0 };
  const server = createServer((req, res) => {
    const traces = req.url?.endsWith('/v1/traces') === true;
    let body = '';
    if (traces) req.setEncoding('utf8').on('data', (c: string) => (body += c));
    else req.resume();
    req.on('end', () => {
      if (traces) {
        exports.traces++;
        // Every span of the OTLP JSON encoding has one "spanId" key (parents are "parentSpanId").
        for (let i = body.indexOf('"spanId":'); i !== -1; i = body.indexOf('"spanId":', i + 9)) exports.spans++;
      } else if (req.url?.endsWith('/v1/metrics')) exports.metrics++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, server, exports };
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(1000, () => s.destroy(new Error('timeout')));
    s.once('error', reject);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (b) => {
      s.end();
      resolve(b.toString().startsWith('+PONG'));
    });
  });
}

/** redis-server on loopback, no persistence; undefined (with the reason) when it cannot be had. */
async function startRedis(): Promise<{ url?: string; proc?: Proc; problem?: string }> {
  const bin = which('redis-server');
  if (bin === undefined) return { problem: 'redis-server not installed (apt-get install redis-server)' };
  const port = await freePort();
  const proc = startProc(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  try {
    await waitFor('redis-server', proc, 10_000, () => redisPing(port));
  } catch (err) {
    await proc.stop();
    return { problem: (err as Error).message };
  }
  return { url: `redis://127.0.0.1:${port}`, proc };
}

async function load(
  wrk: string | undefined,
  ep: Endpoint,
  body: string,
  conns: number,
  secs: number,
): Promise<LoadResult> {
  return wrk ? wrkRun(wrk, ep, body, conns, secs) : nodeRun(ep, body, conns, secs);
}

async function measure(started: Started, s: Settings, wrk: string | undefined, isDirect: boolean, row: Row) {
  const fast = started.endpoint(MODELS.fast);
  const body = chatBody(MODELS.fast);
  const w = await load(wrk, fast, body, s.connections, s.warmSeconds);
  const t = await load(wrk, fast, body, s.connections, s.throughputSeconds);
  row.rps = t.rps;
  row.throughputErrors = t.errors;
  if (t.errors > 0) row.notes.push(`${t.errors} of ${t.requests} requests failed under load`);
  const l = await load(wrk, fast, body, 1, s.latencySeconds);
  row.p50us = l.p50us;
  row.p99us = l.p99us;
  row.requestsServed = w.requests - w.errors + t.requests - t.errors + l.requests - l.errors;
  try {
    const tt = await ttftRun(started.endpoint(MODELS.stream), MODELS.stream, s.ttftStreams);
    if (tt.samples.length === 0)
      throw new Error(`no stream delivered a token (${tt.errors} failed; first: ${tt.firstError ?? 'no detail'})`);
    row.ttftP50ms = pct(tt.samples, 50);
    row.requestsServed = (row.requestsServed ?? 0) + tt.samples.length;
    if (tt.errors > 0) row.notes.push(`${tt.errors} of ${s.ttftStreams} streams failed (first: ${tt.firstError})`);
  } catch (err) {
    row.notes.push(`streaming: ${(err as Error).message}`);
  }
  if (!isDirect && started.proc !== undefined) {
    try {
      const h = await holdStreams(started.endpoint(MODELS.slow), MODELS.slow, s.slowStreams, started.proc.pid, 60_000);
      row.streamsOpen = h.open;
      row.requestsServed = (row.requestsServed ?? 0) + h.open;
      row.idleRssMB = h.idleRssBytes / 1048576;
      // RSS means something only while streams are really held open.
      if (h.open > 0) row.rssMB = h.rssBytes / 1048576;
      if (h.open < s.slowStreams) row.notes.push(`only ${h.open} of ${s.slowStreams} slow streams were flowing`);
    } catch (err) {
      row.notes.push(`slow streams: ${(err as Error).message}`);
    }
  }
}

const f0 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(0));
const f2 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(2));
const signed0 = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '—' : `${n >= 0 ? '+' : ''}${n.toFixed(0)}`;
const signed2 = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '—' : `${n >= 0 ? '+' : ''}${n.toFixed(2)}`;

const HEAD = [
  'target',
  'req/s @32 conns',
  '% of floor',
  'p50 µs @1',
  'p99 µs @1',
  'added p50 µs',
  'TTFT p50 ms',
  'added TTFT ms',
  'RSS MB, 1k slow streams (before)',
];

function cells(r: Row, floor: number | undefined): string[] {
  if (!r.available) return [r.target, `not available: ${r.reason ?? 'unknown'}`, '', '', '', '', '', '', ''];
  const pctFloor = floor && r.rps !== undefined ? `${((100 * r.rps) / floor).toFixed(0)}%` : '—';
  const rss =
    r.rssMB === undefined
      ? '—'
      : `${r.rssMB.toFixed(0)} (${f0(r.idleRssMB)})${r.streamsOpen !== undefined && r.streamsOpen < 1000 ? ` [${r.streamsOpen} open]` : ''}`;
  return [
    r.target,
    f0(r.rps),
    pctFloor,
    f0(r.p50us),
    f0(r.p99us),
    signed0(r.addedP50us),
    f2(r.ttftP50ms),
    signed2(r.addedTtftMs),
    rss,
  ];
}

function table(rows: Row[], floor: number | undefined): { text: string; md: string } {
  const all = [HEAD, ...rows.map((r) => cells(r, floor))];
  // An unavailable row's reason runs across the number columns; it does not widen them.
  const sized = [HEAD, ...rows.filter((r) => r.available).map((r) => cells(r, floor))];
  const widths = HEAD.map((_, i) =>
    Math.max(...[...sized, ...all.map((r) => [r[0]!])].map((r) => (r[i] ?? '').length)),
  );
  const line = (r: string[]) =>
    r[2] === '' && r[1]?.startsWith('not available')
      ? `${r[0]!.padEnd(widths[0]!)}  ${r[1]}`
      : r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const text = [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
  const md = [
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...all.slice(1).map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
  return { text, md };
}

function targetsVerdict(t: Row | undefined, floor: number | undefined): string[] {
  if (t === undefined) return [];
  if (!t.available) return [`${t.target}: targets not measured (${t.reason})`];
  const mark = (ok: boolean | undefined) => (ok === undefined ? '?' : ok ? 'met' : 'MISSED');
  const share = floor && t.rps !== undefined ? t.rps / floor : undefined;
  return [
    `${t.target}, targets:`,
    `  throughput >= 50% of the bare floor: ${share === undefined ? '—' : `${(share * 100).toFixed(0)}%`} ${mark(share === undefined ? undefined : share >= 0.5)}`,
    `  added p50 <= 150 µs: ${signed0(t.addedP50us)} µs ${mark(t.addedP50us === undefined ? undefined : t.addedP50us <= 150)}`,
    `  added TTFT <= 1 ms: ${signed2(t.addedTtftMs)} ms ${mark(t.addedTtftMs === undefined ? undefined : t.addedTtftMs <= 1)}`,
    `  1,000 slow streams <= 200 MB RSS: ${f0(t.rssMB)} MB ${mark(t.rssMB === undefined ? undefined : t.rssMB <= 200 && (t.streamsOpen ?? 0) >= 1000)}`,
  ];
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(`npm run bench [-- --quick] [-- --only ${ALL_TARGETS.map((t) => t.key).join(',')}]`);
    return 0;
  }
  const s = values.quick ? QUICK : FULL;
  const only = values.only?.split(',').map((x) => x.trim().toLowerCase());
  const wrk = await ensureWrk();
  log(
    `load generator: ${wrk ? `wrk (${wrk}), 1 thread` : 'Node.js/undici fallback'}; ${values.quick ? 'quick' : 'full'} run`,
  );
  const sims = await startSimulators();
  const wanted = ALL_TARGETS.filter((t) => only === undefined || only.includes(t.key));
  const sink = await startOtlpSink();
  const redis = wanted.some((t) => t.key === 'tollgate-redis') ? await startRedis() : {};
  const ctx: Context = {
    root,
    node: process.execPath,
    upstreams: sims.upstreams,
    cacheDir: cacheRoot(),
    otlp: sink.url,
    redis: redis.url,
    redisProblem: redis.problem,
    log,
  };
  const rows: Row[] = [];
  const rowKey = new Map<Row, string>();
  for (const target of wanted) {
    const row: Row = { target: target.name, available: false, notes: [] };
    rows.push(row);
    rowKey.set(row, target.key);
    const exportsBefore = sink.exports.traces;
    const spansBefore = sink.exports.spans;
    log(`${target.name}: starting`);
    let started: Started | undefined;
    try {
      started = await target.start(ctx);
    } catch (err) {
      row.reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
      log(`${target.name}: not available: ${row.reason}`);
      continue;
    }
    row.available = true;
    try {
      await measure(started, s, wrk, target.key === DIRECT, row);
    } catch (err) {
      row.notes.push(`measurement failed: ${(err as Error).message.slice(0, 300)}`);
    } finally {
      await started.stop();
    }
    if (target.key.startsWith('tollgate-')) {
      // Spans still queued at stop are flushed on shutdown; give the last export a moment to land.
      await new Promise((r) => setTimeout(r, 500));
      const n = sink.exports.traces - exportsBefore;
      const spans = sink.exports.spans - spansBefore;
      if (n === 0) row.notes.push('the OTLP sink received no trace export: tracing was not on');
      else
        row.notes.push(
          `tracing on: the OTLP sink received ${spans} spans in ${n} exports for about ${row.requestsServed ?? '?'} requests answered (2 spans each expected; spans are dropped when the 2,048-span export queue is full)`,
        );
    }
    log(`${target.name}: ${JSON.stringify(row)}`);
  }
  for (const p of sims.procs) await p.stop();
  await redis.proc?.stop();
  sink.server.close();

  const directRow = rows.find((r) => rowKey.get(r) === DIRECT && r.available);
  const floorRow = rows.find((r) => rowKey.get(r) === FLOOR && r.available);
  for (const r of rows) {
    if (!r.available || r === directRow) continue;
    if (directRow?.p50us !== undefined && r.p50us !== undefined) r.addedP50us = r.p50us - directRow.p50us;
    if (directRow?.ttftP50ms !== undefined && r.ttftP50ms !== undefined)
      r.addedTtftMs = r.ttftP50ms - directRow.ttftP50ms;
  }
  const floor = floorRow?.rps;
  const { text, md } = table(rows, floor);
  const verdict = rows
    .filter((r) => TOLLGATE_ROWS.includes(rowKey.get(r) ?? ''))
    .flatMap((r) => targetsVerdict(r, floor));
  const notes = rows.flatMap((r) => r.notes.map((n) => `${r.target}: ${n}`));
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, load generator ${wrk ? 'wrk -t1' : 'Node.js fallback'}, all on 127.0.0.1`;
  const settings = `${values.quick ? 'quick' : 'full'}: throughput ${s.throughputSeconds}s at ${s.connections} connections after ${s.warmSeconds}s warm-up; latency ${s.latencySeconds}s at 1 connection; TTFT median of ${s.ttftStreams} sequential streams; RSS with ${s.slowStreams} concurrent slow streams`;
  console.log(`\n${text}\n`);
  for (const v of verdict) console.log(v);
  if (notes.length > 0) console.log(`\nNotes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);
  console.log(`\nMachine: ${machine}\nSettings: ${settings}`);

  const out = join(root, '.bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), machine, settings, floorRps: floor, rows }, null, 2)}\n`,
  );
  writeFileSync(
    join(out, 'results.md'),
    `# Tollgate benchmark, ${new Date().toISOString()}\n\n${md}\n\n${verdict.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\nMachine: ${machine}\n\nSettings: ${settings}\n`,
  );
  log(`wrote ${join(out, 'results.json')} and results.md`);
  return 0;
}

const onSignal = () => {
  void stopAll().then(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

main(process.argv.slice(2)).then(
  async (code) => {
    await stopAll();
    process.exitCode = code;
  },
  async (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    await stopAll();
    process.exitCode = 1;
  },
);

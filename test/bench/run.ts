/**
 * `npm run bench [-- --quick] [-- --only tollgate,bare]`: one table, one run, one set of simulated
 * upstreams, every gateway measured the same way. All rows are started up front and measured in
 * interleaved rounds (each round: every row in turn), then their memory one row at a time. Writes
 * .bench/results.{json,md}, with every round's figures in the JSON.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chatBody, type Endpoint, holdStreams, type LoadResult, nodeRun, pct, ttftRun, wrkRun } from './measure.js';
import { freePort, type Proc, runToEnd, startProc, stopAll, waitFor, which } from './proc.js';
import { ALL_TARGETS, baselineTargets, cacheRoot, MODELS, type ModelName, type Started } from './targets.js';

const DIRECT = 'direct';
const FLOOR = 'bare';
/** The rows the Tollgate targets are checked on. */
const TOLLGATE_ROWS = ['tollgate', 'tollgate-acc', 'tollgate-redis', 'tollgate-capacity'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Settings {
  /**
   * Throughput, latency and TTFT are measured in this many rounds; each round measures every row in
   * turn, and a row's figures are medians over rounds. On a shared 2-core machine one measurement per
   * row lets a burst of noise decide a verdict; interleaved rounds put the same noise on every row, and
   * "% of floor" is taken against the floor of the same round.
   */
  rounds: number;
  /** Warm-up before a row's first round (later rounds: 1 s). */
  warmSeconds: number;
  /** Per round. */
  throughputSeconds: number;
  /** Per round. */
  latencySeconds: number;
  /** Per round. */
  ttftStreams: number;
  slowStreams: number;
  connections: number;
}

const FULL: Settings = {
  rounds: 3,
  warmSeconds: 3,
  throughputSeconds: 5,
  latencySeconds: 3,
  ttftStreams: 100,
  slowStreams: 1000,
  connections: 32,
};
const QUICK: Settings = {
  rounds: 1,
  warmSeconds: 1,
  throughputSeconds: 3,
  latencySeconds: 2,
  ttftStreams: 40,
  slowStreams: 1000,
  connections: 32,
};

/** One round's figures for one row. */
export interface Round {
  rps?: number;
  /** rps over the floor's rps in the same round. */
  floorShare?: number;
  p50us?: number;
  p99us?: number;
  /** p50 minus the direct row's p50 in the same round. */
  addedP50us?: number;
  ttftP50ms?: number;
  addedTtftMs?: number;
}

export interface Row {
  target: string;
  available: boolean;
  reason?: string;
  /** Medians over rounds (see Settings.rounds); the rounds themselves are in `rounds`. */
  rps?: number;
  floorShare?: number;
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
  rounds: Round[];
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

/** One round of one row: throughput at 32 connections, latency at 1, time to first token. */
async function measureRound(started: Started, s: Settings, wrk: string | undefined, row: Row, first: boolean) {
  const fast = started.endpoint(MODELS.fast);
  const body = chatBody(MODELS.fast);
  const round: Round = {};
  row.rounds.push(round);
  let served = 0;
  const w = await load(wrk, fast, body, s.connections, first ? s.warmSeconds : 1);
  served += w.requests - w.errors;
  const t = await load(wrk, fast, body, s.connections, s.throughputSeconds);
  served += t.requests - t.errors;
  round.rps = t.rps;
  row.throughputErrors = (row.throughputErrors ?? 0) + t.errors;
  if (t.errors > 0)
    row.notes.push(`round ${row.rounds.length}: ${t.errors} of ${t.requests} requests failed under load`);
  const l = await load(wrk, fast, body, 1, s.latencySeconds);
  served += l.requests - l.errors;
  round.p50us = l.p50us;
  round.p99us = l.p99us;
  try {
    const tt = await ttftRun(started.endpoint(MODELS.stream), MODELS.stream, s.ttftStreams);
    served += tt.samples.length;
    if (tt.samples.length === 0)
      throw new Error(`no stream delivered a token (${tt.errors} failed; first: ${tt.firstError ?? 'no detail'})`);
    round.ttftP50ms = pct(tt.samples, 50);
    if (tt.errors > 0)
      row.notes.push(
        `round ${row.rounds.length}: ${tt.errors} of ${s.ttftStreams} streams failed (first: ${tt.firstError})`,
      );
  } catch (err) {
    row.notes.push(`round ${row.rounds.length}: streaming: ${(err as Error).message}`);
  }
  row.requestsServed = (row.requestsServed ?? 0) + served;
}

/** RSS of the gateway's process tree while `slowStreams` slow streams are held open. */
async function measureMemory(started: Started, s: Settings, row: Row) {
  if (started.proc === undefined) return;
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

function median(xs: (number | undefined)[]): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1]! + v[m]!) / 2;
}

/** Pairs each row's rounds with the floor's and the direct row's of the same round, then takes medians. */
function summarize(rows: Row[], direct: Row | undefined, floor: Row | undefined) {
  for (const r of rows) {
    if (!r.available) continue;
    r.rounds.forEach((x, i) => {
      const f = floor?.rounds[i]?.rps;
      if (f !== undefined && x.rps !== undefined) x.floorShare = x.rps / f;
      if (r === direct) return;
      const d = direct?.rounds[i];
      if (d?.p50us !== undefined && x.p50us !== undefined) x.addedP50us = x.p50us - d.p50us;
      if (d?.ttftP50ms !== undefined && x.ttftP50ms !== undefined) x.addedTtftMs = x.ttftP50ms - d.ttftP50ms;
    });
    const of = <K extends keyof Round>(k: K) => median(r.rounds.map((x) => x[k]));
    r.rps = of('rps');
    r.floorShare = of('floorShare');
    r.p50us = of('p50us');
    r.p99us = of('p99us');
    r.ttftP50ms = of('ttftP50ms');
    if (r !== direct) {
      r.addedP50us = of('addedP50us');
      r.addedTtftMs = of('addedTtftMs');
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

function cells(r: Row): string[] {
  if (!r.available) return [r.target, `not available: ${r.reason ?? 'unknown'}`, '', '', '', '', '', '', ''];
  const pctFloor = r.floorShare === undefined ? '—' : `${(100 * r.floorShare).toFixed(0)}%`;
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

function table(rows: Row[]): { text: string; md: string } {
  const all = [HEAD, ...rows.map(cells)];
  // An unavailable row's reason runs across the number columns; it does not widen them.
  const sized = [HEAD, ...rows.filter((r) => r.available).map(cells)];
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

/** "lo–hi over n rounds" of one per-round figure, when there was more than one round. */
function spread(t: Row, k: keyof Round, fmt: (n: number) => string): string {
  const v = t.rounds.map((x) => x[k]).filter((x): x is number => x !== undefined);
  if (v.length < 2) return '';
  return ` (rounds: ${v.map(fmt).join(', ')})`;
}

function targetsVerdict(t: Row | undefined): string[] {
  if (t === undefined) return [];
  if (!t.available) return [`${t.target}: targets not measured (${t.reason})`];
  const mark = (ok: boolean | undefined) => (ok === undefined ? '?' : ok ? 'met' : 'MISSED');
  const share = t.floorShare;
  const pc = (x: number) => `${(x * 100).toFixed(0)}%`;
  return [
    `${t.target}, targets (medians over rounds):`,
    `  throughput >= 50% of the bare floor: ${share === undefined ? '—' : pc(share)} ${mark(share === undefined ? undefined : share >= 0.5)}${spread(t, 'floorShare', pc)}`,
    `  added p50 <= 150 µs: ${signed0(t.addedP50us)} µs ${mark(t.addedP50us === undefined ? undefined : t.addedP50us <= 150)}${spread(t, 'addedP50us', signed0)}`,
    `  added TTFT <= 1 ms: ${signed2(t.addedTtftMs)} ms ${mark(t.addedTtftMs === undefined ? undefined : t.addedTtftMs <= 1)}${spread(t, 'addedTtftMs', signed2)}`,
    `  1,000 slow streams <= 200 MB RSS: ${f0(t.rssMB)} MB ${mark(t.rssMB === undefined ? undefined : t.rssMB <= 200 && (t.streamsOpen ?? 0) >= 1000)}`,
  ];
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`npm run bench [-- --quick] [-- --only ${ALL_TARGETS.map((t) => t.key).join(',')}]`);
    console.log('  [-- --baseline <built checkout of another commit>]: its Tollgate rows too, in the same rounds');
    return 0;
  }
  const s = values.quick ? QUICK : FULL;
  const only = values.only?.split(',').map((x) => x.trim().toLowerCase());
  const wrk = await ensureWrk();
  log(
    `load generator: ${wrk ? `wrk (${wrk}), 1 thread` : 'Node.js/undici fallback'}; ${values.quick ? 'quick' : 'full'} run`,
  );
  const sims = await startSimulators();
  const baseline =
    values.baseline === undefined ? [] : baselineTargets(values.baseline, checkoutLabel(values.baseline));
  const wanted = [...ALL_TARGETS, ...baseline].filter(
    (t) => only === undefined || only.includes(t.key) || only.includes(t.key.replace('@base', '')),
  );
  const redis = wanted.some((t) => t.key.startsWith('tollgate-redis') || t.key.startsWith('tollgate-capacity'))
    ? await startRedis()
    : {};
  const base = {
    root,
    node: process.execPath,
    upstreams: sims.upstreams,
    cacheDir: cacheRoot(),
    redis: redis.url,
    redisProblem: redis.problem,
    log,
  };
  interface Live {
    key: string;
    row: Row;
    started: Started;
    /** Each row exports its spans to a sink of its own, so the span count is the row's. */
    sink: Awaited<ReturnType<typeof startOtlpSink>>;
  }
  const rows: Row[] = [];
  const rowKey = new Map<Row, string>();
  const live: Live[] = [];
  // Every row is started first and stays up (idle) while the others are measured, so that the rounds
  // can interleave them.
  for (const target of wanted) {
    const row: Row = { target: target.name, available: false, rounds: [], notes: [] };
    rows.push(row);
    rowKey.set(row, target.key);
    log(`${target.name}: starting`);
    const sink = await startOtlpSink();
    try {
      const started = await target.start({ ...base, otlp: sink.url });
      row.available = true;
      live.push({ key: target.key, row, started, sink });
    } catch (err) {
      sink.server.close();
      row.reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
      log(`${target.name}: not available: ${row.reason}`);
    }
  }
  for (let round = 1; round <= s.rounds; round++) {
    for (const l of live) {
      log(`${l.row.target}: round ${round} of ${s.rounds}`);
      try {
        await measureRound(l.started, s, wrk, l.row, round === 1);
      } catch (err) {
        // Keep round i at index i-1 (summarize pairs rows by index): measureRound may have pushed it.
        if (l.row.rounds.length < round) l.row.rounds.push({});
        l.row.notes.push(`round ${round}: measurement failed: ${(err as Error).message.slice(0, 300)}`);
      }
    }
  }
  for (const l of live) {
    if (l.key !== DIRECT) {
      log(`${l.row.target}: ${s.slowStreams} slow streams`);
      await measureMemory(l.started, s, l.row);
    }
    await l.started.stop();
    if (l.key.startsWith('tollgate-') && !l.key.startsWith('tollgate-capacity')) {
      // Spans still queued at stop are flushed on shutdown; give the last export a moment to land.
      await new Promise((r) => setTimeout(r, 500));
      const { traces: n, spans } = l.sink.exports;
      if (n === 0) l.row.notes.push('the OTLP sink received no trace export: tracing was not on');
      else
        l.row.notes.push(
          `tracing on: the OTLP sink received ${spans} spans in ${n} exports for about ${l.row.requestsServed ?? '?'} requests answered (2 spans each expected; spans are dropped when the 2,048-span export queue is full)`,
        );
    }
    l.sink.server.close();
    log(`${l.row.target}: ${JSON.stringify(l.row)}`);
  }
  for (const p of sims.procs) await p.stop();
  await redis.proc?.stop();

  const directRow = rows.find((r) => rowKey.get(r) === DIRECT && r.available);
  const floorRow = rows.find((r) => rowKey.get(r) === FLOOR && r.available);
  summarize(rows, directRow, floorRow);
  const floor = floorRow?.rps;
  const { text, md } = table(rows);
  const verdict = rows.filter((r) => TOLLGATE_ROWS.includes(rowKey.get(r) ?? '')).flatMap((r) => targetsVerdict(r));
  const notes = rows.flatMap((r) => r.notes.map((n) => `${r.target}: ${n}`));
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, load generator ${wrk ? 'wrk -t1' : 'Node.js fallback'}, all on 127.0.0.1`;
  const settings = `${values.quick ? 'quick' : 'full'}: ${s.rounds} interleaved round(s), each row in turn, medians over rounds; per round: throughput ${s.throughputSeconds}s at ${s.connections} connections after a warm-up (${s.warmSeconds}s first, then 1s); latency ${s.latencySeconds}s at 1 connection; TTFT median of ${s.ttftStreams} sequential streams; then RSS with ${s.slowStreams} concurrent slow streams, one row at a time`;
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

/** `<short commit>` of a checkout, for the baseline rows' names. */
function checkoutLabel(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'baseline';
  }
}

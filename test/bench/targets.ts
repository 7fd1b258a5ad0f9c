/**
 * The rows of the benchmark: how to install (on demand, into ~/.cache/tollgate/bench), start and point
 * each gateway at the simulated upstreams. A target that cannot be had throws with the reason; the
 * table then says "not available: <reason>" for that row only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { Endpoint } from './measure.js';
import { chatBody } from './measure.js';
import { freePort, type Proc, runToEnd, startProc, waitFor, which } from './proc.js';

/** The three simulated upstreams, by the model name clients use for them. */
export const MODELS = { fast: 'bench-fast', stream: 'bench-stream', slow: 'bench-slow' } as const;
export type ModelName = (typeof MODELS)[keyof typeof MODELS];

export interface Context {
  root: string;
  node: string;
  /** Origin (http://127.0.0.1:port) of the simulator behind each model. */
  upstreams: Record<ModelName, string>;
  cacheDir: string;
  /** OTLP/HTTP endpoint of the bench's sink (accepts and discards spans and metrics). */
  otlp: string;
  /** `redis://` URL of the redis-server the bench started; undefined when there is none. */
  redis: string | undefined;
  redisProblem?: string;
  log(msg: string): void;
}

export interface Started {
  endpoint(model: ModelName): Endpoint;
  /** The gateway's process (RSS is read from its tree); undefined for the direct row. */
  proc: Proc | undefined;
  stop(): Promise<void>;
}

export interface Target {
  /** Short name for --only. */
  key: string;
  name: string;
  start(ctx: Context): Promise<Started>;
}

export const cacheRoot = () => join(homedir(), '.cache', 'tollgate', 'bench');

/** Sends one real chat completion and checks it is one; the readiness test of every gateway. */
async function answersChat(ep: Endpoint, model: ModelName): Promise<boolean> {
  const r = await request(`${ep.origin}${ep.prefix}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ep.headers },
    body: chatBody(model),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}: ${text.slice(0, 200)}`);
  if (!text.includes('"chat.completion"')) throw new Error(`not a chat.completion: ${text.slice(0, 200)}`);
  return true;
}

const sameOrigin =
  (origin: string, prefix: string, headers: Record<string, string> = {}) =>
  (): Endpoint => ({ origin, prefix, headers });

export const direct: Target = {
  key: 'direct',
  name: 'upstream (direct)',
  async start(ctx) {
    return {
      endpoint: (model) => ({ origin: ctx.upstreams[model], prefix: '/v1', headers: {} }),
      proc: undefined,
      stop: async () => {},
    };
  },
};

export const bare: Target = {
  key: 'bare',
  name: 'bare Node.js proxy (floor)',
  async start(ctx) {
    const port = await freePort();
    const proc = startProc(ctx.node, [
      join(ctx.root, 'dist/test/bench/bare-proxy.js'),
      String(port),
      JSON.stringify(ctx.upstreams),
    ]);
    const endpoint = sameOrigin(`http://127.0.0.1:${port}`, '/v1');
    await waitFor('bare proxy', proc, 10_000, () => answersChat(endpoint(), MODELS.fast));
    return { endpoint, proc, stop: () => proc.stop() };
  },
};

/** What the Tollgate rows turn on beyond routing. */
export interface TollgateVariant {
  /** A key Secret (requests carry it as a Bearer token) and a QuotaPolicy governing it. */
  accounting?: {
    /** Quota counters in the bench's redis-server (ctx.redis) instead of in-process. */
    redis: boolean;
  };
  /**
   * spec.loadBalancing of every route; set, each route has two backends (two providers, both in front of the
   * model's simulator), so the strategy really chooses on every request.
   */
  loadBalancing?: 'least-latency';
  /**
   * Provider capacity (LLMProvider spec.limits, ADR 0063) on every simulated provider, counted in the bench's
   * redis-server: generous limits, so every try reserves and settles in Redis (through credits) and none is skipped.
   */
  capacity?: boolean;
  /**
   * spec.cache (exact, 1h) on the fast and stream routes (not on the slow one: its held streams measure memory),
   * on Redis when accounting is. `hit`: every measured request is a hit. `miss`: every one is looked up, its answer
   * captured and serialised, then dropped by an entry size cap of 1 byte (TOLLGATE_CACHE_MAX_ENTRY_BYTES): the
   * cost of a miss without the entry ever being there. The miss rows use scope perKey (each row has its own key):
   * on the bench's one Redis they never read what a hit row stored.
   */
  cache?: 'hit' | 'miss';
}

/** The cache result a request through `ep` gets twice in a row: a hit row must be hit by its second request. */
async function checkCache(ep: Endpoint, model: ModelName, want: 'hit' | 'miss'): Promise<void> {
  let got: string | undefined;
  for (let i = 0; i < 2; i++) {
    const r = await request(`${ep.origin}${ep.prefix}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ep.headers },
      body: chatBody(model),
    });
    await r.body.text();
    const h = r.headers['x-tollgate-cache'];
    got = typeof h === 'string' ? h : undefined;
  }
  if (got !== want) throw new Error(`x-tollgate-cache is ${got ?? 'absent'} on a repeated request, not ${want}`);
}

/** Provider limits that never run out during a run: a requests and a tokens limit, reserved and settled per try. */
const GENEROUS_CAPACITY = ', limits: [{ requests: 1000000000, per: 1m }, { tokens: 1000000000000, per: 1h }]';

/** A QuotaPolicy that never rejects during a run, with every kind of limit (reserve + settle on each request). */
const GENEROUS_QUOTA = `apiVersion: tollgate.dev/v1alpha1
kind: QuotaPolicy
metadata: { name: bench-generous }
spec:
  selector: { matchLabels: { team: bench } }
  scope: perKey
  limits:
    - { requests: 1000000000, per: 1m }
    - { tokens: 1000000000000, per: 1h }
    - { costUSD: 1000000000, per: month }
  failureMode: closed`;

export function tollgateTarget(key: string, name: string, variant: TollgateVariant = {}, checkout?: string): Target {
  return {
    key,
    name,
    async start(ctx) {
      // `--baseline <checkout>`: the same row, run from another built checkout (before/after in the same rounds).
      const root = checkout ?? ctx.root;
      const runJs = join(root, 'dist/dataplane/src/cli/run.js');
      if (!existsSync(runJs)) throw new Error('`tollgate run` is not built yet (no dist/dataplane/src/cli/run.js)');
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-config-'));
      const acc = variant.accounting;
      if ((acc?.redis || variant.capacity) && ctx.redis === undefined)
        throw new Error(ctx.redisProblem ?? 'no redis-server');
      const limits = variant.capacity ? GENEROUS_CAPACITY : '';
      const docs: string[] = [];
      for (const [k, model] of Object.entries(MODELS)) {
        // Priced models when accounting is on, so cost is computed and the cost limit reserves and settles.
        const models = acc ? `, models: [{ name: ${model}, pricing: { input: 1, output: 2 } }]` : '';
        const lb = variant.loadBalancing;
        const sims = lb === undefined ? [`sim-${k}`] : [`sim-${k}`, `sim-${k}-b`];
        for (const sim of sims)
          docs.push(`apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: ${sim} }
spec: { type: openai-compatible, endpoint: "${ctx.upstreams[model]}/v1"${models}${limits} }`);
        docs.push(`apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: ${model} }
spec:
  models: ["${model}"]${lb === undefined ? '' : `\n  loadBalancing: ${lb}`}
  backends:
${sims.map((sim) => `    - { provider: ${sim} }`).join('\n')}${variant.cache && k !== 'slow' ? `\n  cache: { mode: exact, ttl: 1h, scope: ${variant.cache === 'miss' ? 'perKey' : 'namespace'} }` : ''}`);
      }
      const clientKey = `tg-bench-${randomBytes(12).toString('hex')}`;
      if (acc) {
        docs.push(`apiVersion: v1
kind: Secret
metadata: { name: bench-key, labels: { tollgate.dev/api-key: "true", team: bench } }
stringData: { key: ${clientKey} }`);
        docs.push(GENEROUS_QUOTA);
      }
      writeFileSync(join(dir, 'bench.yaml'), `${docs.join('\n---\n')}\n`);
      const port = await freePort();
      const args = ['run', '-f', dir, '--port', String(port), '--host', '127.0.0.1'];
      // Every row runs at once: each admin server (/metrics) on a free port. A baseline from before the admin
      // port existed serves /metrics on its API port and knows no such flag.
      if (checkout === undefined) args.push('--admin-port', '0');
      if (acc?.redis || variant.capacity) args.push('--redis', ctx.redis!);
      const cacheEnv: NodeJS.ProcessEnv = variant.cache === 'miss' ? { TOLLGATE_CACHE_MAX_ENTRY_BYTES: '1' } : {};
      const env: NodeJS.ProcessEnv = acc
        ? { OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlp, OTEL_SERVICE_NAME: 'tollgate-bench' }
        : // The plain row: no tracing even when the shell running the bench has OTEL_* set.
          { OTEL_SDK_DISABLED: 'true' };
      const proc = startProc(join(root, 'bin/tollgate'), args, { ...env, ...cacheEnv });
      const headers: Record<string, string> = acc ? { authorization: `Bearer ${clientKey}` } : {};
      const endpoint = sameOrigin(`http://127.0.0.1:${port}`, '/v1', headers);
      try {
        await waitFor(name, proc, 20_000, () => answersChat(endpoint(), MODELS.fast));
        if (variant.cache) await checkCache(endpoint(), MODELS.fast, variant.cache);
      } catch (err) {
        await proc.stop();
        throw err;
      }
      return { endpoint, proc, stop: () => proc.stop() };
    },
  };
}

const TOLLGATE_ROWS: readonly [key: string, name: string, variant: TollgateVariant][] = [
  ['tollgate', 'Tollgate', {}],
  ['tollgate-acc', 'Tollgate (key, quota, tracing)', { accounting: { redis: false } }],
  ['tollgate-redis', 'Tollgate (key, quota in Redis, tracing)', { accounting: { redis: true } }],
  [
    'tollgate-cache-hit',
    'Tollgate (key, quota, tracing, exact cache hit)',
    { accounting: { redis: false }, cache: 'hit' },
  ],
  [
    'tollgate-redis-cache-hit',
    'Tollgate (key, quota, tracing, exact cache hit, Redis)',
    { accounting: { redis: true }, cache: 'hit' },
  ],
  [
    'tollgate-cache-miss',
    'Tollgate (key, quota, tracing, cache on, always miss)',
    { accounting: { redis: false }, cache: 'miss' },
  ],
  [
    'tollgate-redis-cache-miss',
    'Tollgate (key, quota in Redis, tracing, cache on, always miss)',
    { accounting: { redis: true }, cache: 'miss' },
  ],
];

export const [tollgate, tollgateAccounted, tollgateRedis, ...tollgateCached] = TOLLGATE_ROWS.map(([k, n, v]) =>
  tollgateTarget(k, n, v),
) as [Target, Target, Target, ...Target[]];

/**
 * The Tollgate rows once more, started from `checkout` (a built clone of another commit): keys `<key>@base`,
 * names `<name> @ <label>`. They join the same interleaved rounds, so before and after meet the same noise.
 */
export function baselineTargets(checkout: string, label: string): Target[] {
  // Only the rows an older build can start (it knows no spec.cache).
  return TOLLGATE_ROWS.filter(([, , v]) => v.cache === undefined).map(([k, n, v]) =>
    tollgateTarget(`${k}@base`, `${n} @ ${label}`, v, checkout),
  );
}

async function ensurePortkey(ctx: Context): Promise<string> {
  const dir = join(ctx.cacheDir, 'portkey');
  const entry = join(dir, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (existsSync(entry)) return entry;
  const npm = which('npm');
  if (npm === undefined) throw new Error('npm not found to install @portkey-ai/gateway');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json')))
    writeFileSync(join(dir, 'package.json'), '{"name":"tollgate-bench-portkey","private":true}\n');
  ctx.log('installing @portkey-ai/gateway into ~/.cache/tollgate/bench/portkey ...');
  const r = await runToEnd(npm, ['install', '--no-audit', '--no-fund', '@portkey-ai/gateway'], {
    cwd: dir,
    timeoutMs: 600_000,
  });
  if (r.code !== 0 || !existsSync(entry))
    throw new Error(`npm install @portkey-ai/gateway failed: ${r.out.trim().slice(-300)}`);
  return entry;
}

export const portkey: Target = {
  key: 'portkey',
  name: 'Portkey gateway (OSS)',
  async start(ctx) {
    const entry = await ensurePortkey(ctx);
    const port = await freePort();
    const proc = startProc(ctx.node, [entry, `--port=${port}`, '--headless'], { NODE_ENV: 'production' });
    const origin = `http://127.0.0.1:${port}`;
    // Portkey routes by headers: provider openai with a custom host = the simulator behind the model.
    const endpoint = (model: ModelName): Endpoint => ({
      origin,
      prefix: '/v1',
      headers: {
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${ctx.upstreams[model]}/v1`,
        authorization: 'Bearer sk-simulated',
      },
    });
    try {
      await waitFor('portkey gateway', proc, 30_000, () => answersChat(endpoint(MODELS.fast), MODELS.fast));
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return { endpoint, proc, stop: () => proc.stop() };
  },
};

async function ensureLitellm(ctx: Context): Promise<string> {
  const dir = join(ctx.cacheDir, 'litellm');
  const bin = join(dir, 'venv/bin/litellm');
  if (existsSync(bin)) return bin;
  const py = which('python3');
  if (py === undefined) throw new Error('python3 not found to install litellm[proxy]');
  mkdirSync(dir, { recursive: true });
  ctx.log("installing 'litellm[proxy]' into ~/.cache/tollgate/bench/litellm/venv (a few minutes) ...");
  let r = await runToEnd(py, ['-m', 'venv', join(dir, 'venv')]);
  if (r.code !== 0) throw new Error(`python3 -m venv failed: ${r.out.trim().slice(-300)}`);
  r = await runToEnd(join(dir, 'venv/bin/pip'), ['install', '-q', 'litellm[proxy]'], { timeoutMs: 900_000 });
  if (r.code !== 0 || !existsSync(bin))
    throw new Error(`pip install 'litellm[proxy]' failed: ${r.out.trim().slice(-300)}`);
  return bin;
}

export const litellm: Target = {
  key: 'litellm',
  name: 'LiteLLM proxy',
  async start(ctx) {
    const bin = await ensureLitellm(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-litellm-'));
    const entries = Object.values(MODELS)
      .map(
        (m) => `  - model_name: ${m}
    litellm_params:
      model: openai/${m}
      api_base: ${ctx.upstreams[m]}/v1
      api_key: sk-simulated`,
      )
      .join('\n');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `model_list:\n${entries}\nlitellm_settings:\n  telemetry: false\n  drop_params: true\n`);
    const port = await freePort();
    // The proxy refuses to start without a master key; clients then send it as their Bearer token.
    const masterKey = `sk-bench-${randomBytes(16).toString('hex')}`;
    const proc = startProc(
      bin,
      ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'],
      {
        LITELLM_LOCAL_MODEL_COST_MAP: 'True',
        LITELLM_LOG: 'ERROR',
        LITELLM_TELEMETRY: 'False',
        NO_DOCS: 'True',
        LITELLM_MASTER_KEY: masterKey,
      },
    );
    const endpoint = sameOrigin(`http://127.0.0.1:${port}`, '/v1', { authorization: `Bearer ${masterKey}` });
    try {
      await waitFor('litellm proxy', proc, 120_000, () => answersChat(endpoint(), MODELS.fast));
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return { endpoint, proc, stop: () => proc.stop() };
  },
};

/** Every route over two backends, chosen by least-latency (peak-EWMA, power of two choices). */
export const tollgateLeastLatency = tollgateTarget('least-latency', 'Tollgate (least-latency)', {
  loadBalancing: 'least-latency',
});

/**
 * least-latency over two backends with provider capacity on (issue 16's row): every try picks by peak-EWMA and
 * reserves and settles its provider's limits in Redis.
 */
export const tollgateCapacity = tollgateTarget('tollgate-capacity', 'Tollgate (least-latency, provider capacity)', {
  loadBalancing: 'least-latency',
  capacity: true,
});

export const ALL_TARGETS: Target[] = [
  direct,
  bare,
  tollgate,
  tollgateAccounted,
  tollgateRedis,
  tollgateLeastLatency,
  tollgateCapacity,
  ...tollgateCached,
  portkey,
  litellm,
];

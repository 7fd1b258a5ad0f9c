/**
 * Micro benchmark of routing/select.ts pickBackend, the backend choice on every request's hot path:
 * `npm run build:bench && node dist/test/bench/pick-backend.js`. Prints ns per pick for a route of one tier
 * with two and with four backends, for each load-balancing strategy the build knows (a build without
 * spec.loadBalancing measures weighted only). Five runs of 2M picks each; the median is printed.
 */
import type { GatewayConfig, RouteConfig } from '../../contract/gateway-config.js';
import { HealthRegistry } from '../../dataplane/src/routing/health.js';
import { pickBackend } from '../../dataplane/src/routing/select.js';
import { compileTables, matchRoute } from '../../dataplane/src/routing/table.js';

const provider = (name: string) => ({
  id: `ai/${name}`,
  namespace: 'ai',
  name,
  type: 'openai' as const,
  baseUrl: 'http://127.0.0.1:1/v1',
  models: [{ name: 'gpt-4o', pricing: { input: 1 + name.length, output: 2 } }],
  connectTimeoutMs: 1000,
  requestTimeoutMs: 1000,
});

function compiled(n: number, loadBalancing: string | undefined) {
  const names = ['a', 'b', 'c', 'd'].slice(0, n);
  const route: RouteConfig = {
    id: 'ai/r',
    namespace: 'ai',
    name: 'r',
    models: [{ name: 'gpt-4o', prefix: false }],
    headers: [],
    backends: names.map((p, i) => ({ provider: `ai/${p}`, model: 'gpt-4o', weight: i + 1, priority: 0 })),
    retry: { attempts: 3, backoffBaseMs: 100, backoffMaxMs: 2000, on: ['5xx'] },
    timeoutMs: 1000,
    ...(loadBalancing === undefined ? {} : { loadBalancing }),
  } as RouteConfig;
  const config: GatewayConfig = {
    version: 1,
    hash: 'x',
    providers: names.map(provider),
    routes: [route],
    quotaPolicies: [],
    apiKeys: [],
    requireKeys: false,
  };
  return matchRoute(compileTables(config, new HealthRegistry()).byNamespace.get('ai')!, 'gpt-4o', () => undefined)!;
}

const request = { model: 'gpt-4o', operation: 'chat' as const, body: { messages: [{ role: 'user', content: 'hi' }] } };
const N = 2_000_000;

function measure(n: number, lb: string | undefined): number {
  const r = compiled(n, lb);
  const runs: number[] = [];
  let sink = 0;
  // biome-ignore lint/suspicious/noExplicitAny: the parameter list differs between the builds compared
  const pick = pickBackend as (...args: any[]) => { index: number } | undefined;
  for (let run = 0; run < 6; run++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) sink += pick(r, 0, 1000, Math.random, 0, request)?.index ?? 0;
    const ns = Number(process.hrtime.bigint() - t0) / N;
    if (run > 0) runs.push(ns); // run 0 warms the JIT up
  }
  if (sink < 0) console.log(sink);
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)]!;
}

const strategies = (process.argv[2] ?? 'weighted').split(',');
for (const lb of strategies)
  for (const n of [2, 4])
    console.log(`${lb.padEnd(14)} ${n} backends: ${measure(n, lb === 'weighted' ? undefined : lb).toFixed(1)} ns/pick`);

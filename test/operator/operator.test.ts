/**
 * The operator end to end on a real kube-apiserver: CRDs and resources applied through the API, the
 * operator and data-plane pods running on loopback as they would in pods (each data plane with a
 * ServiceAccount token from the TokenRequest API, the operator checking it with TokenReview), requests
 * through the official OpenAI SDK reaching simulated upstreams.
 */
import { rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import OpenAI from 'openai';
import { GatewayConfigSchema } from '../../contract/gateway-config.js';
import { type DataplaneHandle, startDataplane } from '../../dataplane/src/cli/dataplane.js';
import { silentLogger } from '../../dataplane/src/log.js';
import { parseOperatorFlags } from '../../operator/src/flags.js';
import { type OperatorHandle, startOperator } from '../../operator/src/operator.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { adminConfig, createNamespace } from './kube.js';
import { eventually, installCrds, Resources, serviceAccountToken, tempDir } from './support.js';

const CLIENT_KEY = 'tg-test-client-key-0123456789';

let kc: KubeConfig;
let system: string;
let ai: Resources;
let dir: string;
let dpToken: string;
let foreignToken: string;
let upstreamA: FakeUpstream;
let upstreamB: FakeUpstream;
const operators: OperatorHandle[] = [];
const dataplanes: DataplaneHandle[] = [];

function operatorFlags(podName: string, namespace: string) {
  const parsed = parseOperatorFlags(
    [
      `--kubeconfig=${process.env.KUBECONFIG}`,
      `--namespaces=${namespace}`,
      `--lease-namespace=${system}`,
      `--pod-name=${podName}`,
      '--config-listen=127.0.0.1:0',
      '--health-listen=127.0.0.1:0',
      '--lease-duration=3s',
      '--renew-deadline=2s',
      '--retry-period=300ms',
      `--dataplane-service-accounts=${system}/tollgate-dataplane`,
    ],
    { env: {}, hostname: podName },
  );
  if (parsed.help) throw new Error('unexpected help');
  return parsed.flags;
}

async function startDp(op: OperatorHandle, name: string): Promise<DataplaneHandle> {
  const dp = await startDataplane({
    operatorUrl: `https://127.0.0.1:${op.configPort}`,
    ca: op.caCert,
    tokenFile: dpToken,
    port: 0,
    host: '127.0.0.1',
    podName: name,
    logger: silentLogger,
  });
  dataplanes.push(dp);
  return dp;
}

function client(dp: DataplaneHandle): OpenAI {
  return new OpenAI({ baseURL: `http://127.0.0.1:${dp.port}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
}

async function chat(dp: DataplaneHandle, model: string): Promise<{ status: number; route?: string | null }> {
  try {
    const { response } = await client(dp)
      .chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    return { status: response.status, route: response.headers.get('x-tollgate-route') };
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status ?? 0 };
    throw error;
  }
}

/** Raw HTTPS call to the config channel, returning status and body (for the 401 checks). */
function configCall(port: number, ca: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', ca, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  kc = adminConfig();
  await installCrds();
  system = await createNamespace(kc, 'tg-system');
  const appNs = await createNamespace(kc, 'tg-ai');
  ai = new Resources(kc, appNs);
  dir = await tempDir();
  dpToken = await serviceAccountToken(kc, system, 'tollgate-dataplane', dir);
  const foreignPath = await serviceAccountToken(kc, system, 'someone-else', dir);
  foreignToken = (await import('node:fs')).readFileSync(foreignPath, 'utf8');
  upstreamA = await FakeUpstream.start('upstream-a');
  upstreamB = await FakeUpstream.start('upstream-b');

  await ai.secret('client-key', { key: CLIENT_KEY }, { 'tollgate.dev/api-key': 'true', team: 'research' });
  await ai.secret('cred-a', { apiKey: 'sk-a-1' });
  await ai.create('LLMProvider', 'prov-a', {
    type: 'openai-compatible',
    endpoint: upstreamA.openaiBaseUrl,
    auth: { secretRef: { name: 'cred-a', key: 'apiKey' } },
  });
  // cred-b does not exist yet.
  await ai.create('LLMProvider', 'prov-b', {
    type: 'openai-compatible',
    endpoint: upstreamB.openaiBaseUrl,
    auth: { secretRef: { name: 'cred-b', key: 'apiKey' } },
  });
  await ai.create('LLMRoute', 'route-a', { models: ['model-a'], backends: [{ provider: 'prov-a' }] });
  await ai.create('LLMRoute', 'route-b', { models: ['model-b'], backends: [{ provider: 'prov-b' }] });
  // Created after route-a and claiming the same model: the newer one is rejected (ModelConflict).
  await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has 1 s resolution
  await ai.create('LLMRoute', 'route-conflict', { models: ['model-a'], backends: [{ provider: 'prov-b' }] });
  await ai.create('QuotaPolicy', 'research', {
    selector: { matchLabels: { team: 'research' } },
    limits: [{ requests: 1000, per: '1m' }],
  });

  operators.push(await startOperator(operatorFlags('operator-1', appNs), silentLogger));
  await eventually(async () => {
    if (!operators[0]?.controller.isLeader) throw new Error('operator-1 is not leading yet');
  });
  await startDp(operators[0] as OperatorHandle, 'dp-1');
  await startDp(operators[0] as OperatorHandle, 'dp-2');
});

afterAll(async () => {
  for (const dp of dataplanes) await dp.stop();
  for (const op of operators) await op.stop();
  await upstreamA?.close();
  await upstreamB?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('operator on a real API server', () => {
  it('accepts the valid resources, rejects only the conflicting route, and programs the rest', async () => {
    await ai.waitCondition('LLMRoute', 'route-a', 'Accepted', { status: 'True' });
    await ai.waitCondition('LLMRoute', 'route-a', 'Programmed', { status: 'True' });
    await ai.waitCondition('LLMProvider', 'prov-a', 'Programmed', { status: 'True' });
    const rejected = await ai.waitCondition('LLMRoute', 'route-conflict', 'Accepted', {
      status: 'False',
      reason: 'ModelConflict',
    });
    expect(rejected.message).toContain('route-a');
    await ai.waitCondition('LLMRoute', 'route-conflict', 'Programmed', { status: 'False', reason: 'NotAccepted' });
    await ai.waitCondition('QuotaPolicy', 'research', 'Accepted', { status: 'True' });
    // The rejection is also a Warning Event on the route.
    await eventually(async () => {
      const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ai.namespace });
      const e = events.items.find((x) => x.involvedObject.name === 'route-conflict' && x.reason === 'ModelConflict');
      if (e?.type !== 'Warning') throw new Error('no ModelConflict event yet');
    });
  });

  it('reports a missing credential Secret as ResolvedRefs=False, without blocking the rest', async () => {
    const c = await ai.waitCondition('LLMProvider', 'prov-b', 'ResolvedRefs', { status: 'False' });
    expect(c.message).toContain('cred-b');
    expect(c.message).not.toContain('sk-');
  });

  it('serves a request through each data plane to the right upstream with the resolved credential', async () => {
    for (const dp of dataplanes) {
      upstreamA.reset();
      const r = await chat(dp, 'model-a');
      expect(r).toEqual({ status: 200, route: `${ai.namespace}/route-a` });
      expect(upstreamA.requests).toHaveLength(1);
      expect(upstreamA.requests[0]?.headers.authorization).toBe('Bearer sk-a-1');
    }
  });

  it('turns ResolvedRefs True once the Secret exists, and the credential reaches the pods without restarts', async () => {
    await ai.secret('cred-b', { apiKey: 'sk-b-1' });
    await ai.waitCondition('LLMProvider', 'prov-b', 'ResolvedRefs', { status: 'True' });
    await ai.waitCondition('LLMProvider', 'prov-b', 'Programmed', { status: 'True' });
    for (const dp of dataplanes) {
      upstreamB.reset();
      expect((await chat(dp, 'model-b')).status).toBe(200);
      expect(upstreamB.requests[0]?.headers.authorization).toBe('Bearer sk-b-1');
    }
    // Rotation: a new value of an existing credential is pushed too.
    await ai.secret('cred-a', { apiKey: 'sk-a-2' });
    await eventually(async () => {
      for (const dp of dataplanes) {
        upstreamA.reset();
        await chat(dp, 'model-a');
        if (upstreamA.requests[0]?.headers.authorization !== 'Bearer sk-a-2')
          throw new Error('old credential still used');
      }
    });
  });

  it('persists the latest snapshot in a Secret, from which a pod boots while no operator answers', async () => {
    const secret = await eventually(async () => {
      const s = await kc
        .makeApiClient(CoreV1Api)
        .readNamespacedSecret({ namespace: system, name: 'tollgate-config-snapshot' });
      const config = GatewayConfigSchema.parse(
        JSON.parse(Buffer.from(s.data?.['config.json'] ?? '', 'base64').toString('utf8')),
      );
      if (!config.providers.some((p) => p.name === 'prov-b' && p.credential === 'sk-b-1'))
        throw new Error('stale snapshot');
      return config;
    });
    const file = join(dir, 'snapshot.json');
    await writeFile(file, JSON.stringify(secret));
    const booted = await startDataplane({
      operatorUrl: 'https://127.0.0.1:1', // nobody listens: the pod serves the boot snapshot
      ca: operators[0]?.caCert ?? '',
      tokenFile: dpToken,
      bootSnapshot: file,
      port: 0,
      host: '127.0.0.1',
      podName: 'dp-boot',
      logger: silentLogger,
    });
    dataplanes.push(booted);
    const ready = await fetch(`http://127.0.0.1:${booted.port}/readyz`);
    expect(ready.status).toBe(200);
    expect((await chat(booted, 'model-b')).status).toBe(200);
    await booted.stop();
    dataplanes.pop();
  });

  it('answers 401 and nothing else to a client without a valid data-plane token', async () => {
    const op = operators[0] as OperatorHandle;
    for (const token of [undefined, 'not-a-token', foreignToken]) {
      const r = await configCall(op.configPort, op.caCert, '/v1/config/stream?pod=intruder', token);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toEqual({ error: 'unauthorized' });
    }
    const ok = await configCall(
      op.configPort,
      op.caCert,
      '/v1/config/nothing',
      (await import('node:fs')).readFileSync(dpToken, 'utf8'),
    );
    expect(ok.status).toBe(404);
  });

  it('removes a deleted route from every pod', async () => {
    await ai.delete('LLMRoute', 'route-conflict');
    await ai.delete('LLMRoute', 'route-b');
    await eventually(async () => {
      for (const dp of dataplanes) {
        const r = await chat(dp, 'model-b');
        if (r.status !== 404) throw new Error(`model-b still answers ${r.status}`);
      }
    });
    for (const dp of dataplanes) expect((await chat(dp, 'model-a')).status).toBe(200);
  });

  it('keeps a second replica standby until the Lease moves to it; pods keep serving meanwhile', async () => {
    const second = await startOperator(operatorFlags('operator-2', ai.namespace), silentLogger);
    operators.push(second);
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.controller.isLeader).toBe(false);
    const standby = await configCall(
      second.configPort,
      second.caCert,
      '/v1/config/stream?pod=x',
      (await import('node:fs')).readFileSync(dpToken, 'utf8'),
    );
    expect(standby.status).toBe(503);
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: system, name: 'tollgate-operator' });
    expect(lease.spec?.holderIdentity).toBe('operator-1');
    // Both replicas share the CA from the PKI Secret.
    expect(second.caCert).toBe(operators[0]?.caCert);

    // Stop the leader: it releases the Lease; the pods keep serving their last config.
    await operators[0]?.stop();
    for (const dp of dataplanes) expect((await chat(dp, 'model-a')).status).toBe(200);
    await eventually(async () => {
      if (!second.controller.isLeader) throw new Error('operator-2 has not taken over');
    });
    // The new leader serves config to pods that connect to it and keeps status up to date.
    const dp3 = await startDp(second, 'dp-3');
    await eventually(async () => {
      if ((await chat(dp3, 'model-a')).status !== 200) throw new Error('dp-3 not serving yet');
    });
    await ai.create('LLMRoute', 'route-c', { models: ['model-c'], backends: [{ provider: 'prov-b' }] });
    await ai.waitCondition('LLMRoute', 'route-c', 'Programmed', { status: 'True' });
    expect((await chat(dp3, 'model-c')).status).toBe(200);
  });
});

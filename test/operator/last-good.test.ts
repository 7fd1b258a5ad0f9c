/**
 * The operator on a real kube-apiserver agrees with `tollgate run` (ADR 0055, issue 17 items 2 and 8):
 * - a route applied with kubectl that still says `retry.on` (unquoted, so kubectl's YAML 1.1 reads it as
 *   `true`) is stored, and gets Accepted=False with a message that says to write `retryOn`;
 * - a working route edited to name a missing provider keeps serving its last good version through the data
 *   plane (OpenAI SDK request answered 200, not 503), and its ResolvedRefs=False message says so.
 */
import { rm } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import OpenAI from 'openai';
import { type DataplaneHandle, startDataplane } from '../../dataplane/src/cli/dataplane.js';
import { KEPT_PREFIX } from '../../dataplane/src/config/last-good.js';
import { silentLogger } from '../../dataplane/src/log.js';
import { parseOperatorFlags } from '../../operator/src/flags.js';
import { type OperatorHandle, startOperator } from '../../operator/src/operator.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { adminConfig, createNamespace, tool } from './kube.js';
import { eventually, installCrds, Resources, serviceAccountToken, tempDir } from './support.js';

const TIMEOUT = 120_000;
const CLIENT_KEY = 'tg-last-good-client-key-0123456789';

let kc: KubeConfig;
let system: string;
let ai: Resources;
let dir: string;
let upstream: FakeUpstream;
let operator: OperatorHandle | undefined;
let dp: DataplaneHandle | undefined;

async function chat(model: string): Promise<{ status: number; route?: string | null }> {
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${dp!.port}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    return { status: response.status, route: response.headers.get('x-tollgate-route') };
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status ?? 0 };
    throw error;
  }
}

beforeAll(async () => {
  kc = adminConfig();
  await installCrds();
  system = await createNamespace(kc, 'tg-lg-system');
  const appNs = await createNamespace(kc, 'tg-lg-ai');
  ai = new Resources(kc, appNs);
  dir = await tempDir();
  const token = await serviceAccountToken(kc, system, 'tollgate-dataplane', dir);
  upstream = await FakeUpstream.start('upstream-lg');
  await ai.secret('client-key', { key: CLIENT_KEY }, { 'tollgate.dev/api-key': 'true' });
  await ai.create('LLMProvider', 'sim', { type: 'openai-compatible', endpoint: upstream.openaiBaseUrl });
  await ai.create('LLMRoute', 'chat', { models: ['lg-model'], backends: [{ provider: 'sim' }] });

  const parsed = parseOperatorFlags(
    [
      `--kubeconfig=${process.env.KUBECONFIG}`,
      `--namespaces=${appNs}`,
      `--lease-namespace=${system}`,
      '--pod-name=operator-lg',
      '--config-listen=127.0.0.1:0',
      '--health-listen=127.0.0.1:0',
      '--lease-duration=3s',
      '--renew-deadline=2s',
      '--retry-period=300ms',
      `--dataplane-service-accounts=${system}/tollgate-dataplane`,
    ],
    { env: {}, hostname: 'operator-lg' },
  );
  if (parsed.help) throw new Error('unexpected help');
  const op = await startOperator(parsed.flags, silentLogger);
  operator = op;
  await eventually(async () => {
    if (!op.controller.isLeader) throw new Error('the operator is not leading yet');
  });
  dp = await startDataplane({
    operatorUrl: `https://127.0.0.1:${op.configPort}`,
    ca: op.caCert,
    tokenFile: token,
    port: 0,
    host: '127.0.0.1',
    podName: 'dp-lg',
    logger: silentLogger,
  });
}, TIMEOUT);

afterAll(async () => {
  await dp?.stop();
  await operator?.stop();
  await upstream?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, TIMEOUT);

describe('operator: per-resource last good and the retryOn rename, on a real API server', () => {
  it(
    'stores a route written with the old unquoted `on:` (kubectl reads it as true) and rejects it naming retryOn',
    async () => {
      // Exactly what a user following the old docs wrote; kubectl's YAML 1.1 turns `on` into `true`.
      const yaml = `apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: legacy, namespace: ${ai.namespace} }
spec:
  models: ["legacy-model"]
  backends: [{ provider: sim }]
  retry:
    on: ["429", "5xx"]
`;
      await tool('kubectl', ['apply', '-f', '-'], yaml);
      const stored = (await ai.get('LLMRoute', 'legacy')) as unknown as { spec: { retry: Record<string, unknown> } };
      expect(Object.keys(stored.spec.retry)).toContain('true');
      const accepted = await ai.waitCondition('LLMRoute', 'legacy', 'Accepted', { status: 'False', reason: 'Invalid' });
      expect(accepted.message).toMatch(/spec\.retry\.true: .*the field is now spec\.retry\.retryOn: write `retryOn:/);
      // The same route with retryOn is accepted and served.
      await tool('kubectl', ['apply', '-f', '-'], yaml.replace('    on:', '    retryOn:'));
      await ai.waitCondition('LLMRoute', 'legacy', 'Accepted', { status: 'True' });
      await eventually(async () => {
        const r = await chat('legacy-model');
        if (r.status !== 200) throw new Error(`legacy-model answered ${r.status}`);
      });
    },
    TIMEOUT,
  );

  it(
    'keeps serving the last good version of a route edited to name a missing provider, and says so in status',
    async () => {
      await ai.waitCondition('LLMRoute', 'chat', 'ResolvedRefs', { status: 'True' });
      await eventually(async () => {
        const r = await chat('lg-model');
        if (r.status !== 200) throw new Error(`lg-model answered ${r.status}`);
      });
      await ai.patchSpec('LLMRoute', 'chat', (spec) => {
        spec.backends = [{ provider: 'no-such-provider' }];
      });
      const resolved = await ai.waitCondition('LLMRoute', 'chat', 'ResolvedRefs', {
        status: 'False',
        reason: 'BackendNotFound',
      });
      expect(resolved.message.startsWith(KEPT_PREFIX)).toBe(true);
      expect(resolved.message).toContain('no-such-provider not found');
      // This generation is not what the pods serve, so it is not Programmed.
      await ai.waitCondition('LLMRoute', 'chat', 'Programmed', { status: 'False', reason: 'NotAccepted' });
      // Served by the last good version (provider sim), not 503.
      expect(await chat('lg-model')).toEqual({ status: 200, route: `${ai.namespace}/chat` });
    },
    TIMEOUT,
  );
});

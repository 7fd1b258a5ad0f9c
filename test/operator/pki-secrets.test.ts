/**
 * On a real API server, while the operator runs: its PKI Secret is watched (a rotated serving certificate
 * is served without a restart, a deleted Secret is written back with the same CA, a broken one is
 * reissued), and rejected API key Secrets (MissingKey, DuplicateKey) get Warning Events.
 */
import { rm } from 'node:fs/promises';
import { connect } from 'node:tls';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { silentLogger } from '../../dataplane/src/log.js';
import { reissueServing, servingUsable } from '../../operator/src/certs.js';
import { parseOperatorFlags } from '../../operator/src/flags.js';
import { pkiFromData } from '../../operator/src/kube-io.js';
import { type OperatorHandle, startOperator } from '../../operator/src/operator.js';
import { adminConfig, createNamespace } from './kube.js';
import { eventually, installCrds, Resources, tempDir } from './support.js';

const HOSTS = ['localhost', '127.0.0.1'];
const TLS_SECRET = 'pki-test-tls';

let kc: KubeConfig;
let core: CoreV1Api;
let system: string;
let ai: Resources;
let dir: string;
let op: OperatorHandle | undefined;

/** The certificate the config port presents now (PEM-independent: DER bytes). */
function servedCert(port: number, ca: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      resolve(raw);
    });
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('error', reject);
  });
}

const der = (pem: string) =>
  Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''), 'base64');

/**
 * Events this test's operator reported. Other test files may run a cluster-wide operator on the same API
 * server at the same time; reportingInstance (the pod name) tells the replicas apart.
 */
function mine<T extends { reportingInstance?: string }>(events: T[]): T[] {
  return events.filter((e) => e.reportingInstance === 'pki-operator');
}

async function secretPki() {
  const s = await core.readNamespacedSecret({ namespace: system, name: TLS_SECRET });
  return pkiFromData(s.data);
}

beforeAll(async () => {
  kc = adminConfig();
  core = kc.makeApiClient(CoreV1Api);
  await installCrds();
  system = await createNamespace(kc, 'tg-pki-system');
  ai = new Resources(kc, await createNamespace(kc, 'tg-pki'));
  dir = await tempDir();
  const parsed = parseOperatorFlags(
    [
      `--kubeconfig=${process.env.KUBECONFIG}`,
      `--namespaces=${ai.namespace}`,
      `--lease-namespace=${system}`,
      '--leader-elect=false',
      '--config-listen=127.0.0.1:0',
      '--health-listen=127.0.0.1:0',
      `--tls-secret=${TLS_SECRET}`,
      `--tls-hosts=${HOSTS.join(',')}`,
      `--dataplane-service-accounts=${system}/tollgate-dataplane`,
    ],
    { env: {}, hostname: 'pki-operator' },
  );
  if (parsed.help) throw new Error('unexpected help');
  op = await startOperator(parsed.flags, silentLogger);
  await eventually(async () => {
    if (!op?.pkiWatcher.synced) throw new Error('PKI watch not synced');
  });
});

afterAll(async () => {
  await op?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PKI Secret watch', () => {
  it('serves a rotated serving certificate from the Secret without a restart', async () => {
    const handle = op as OperatorHandle;
    const before = await secretPki();
    if (!before) throw new Error('no PKI Secret');
    expect((await servedCert(handle.configPort, handle.caCert)).equals(der(before.cert))).toBe(true);
    const rotated = await reissueServing(before, HOSTS);
    await core.replaceNamespacedSecret({
      namespace: system,
      name: TLS_SECRET,
      body: {
        metadata: { name: TLS_SECRET, namespace: system },
        stringData: {
          'ca.crt': rotated.caCert,
          'ca.key': rotated.caKey,
          'tls.crt': rotated.cert,
          'tls.key': rotated.key,
        },
      },
    });
    await eventually(async () => {
      const served = await servedCert(handle.configPort, handle.caCert);
      if (!served.equals(der(rotated.cert))) throw new Error('still the old certificate');
    });
    expect(handle.pkiWatcher.counts.reloads).toBeGreaterThanOrEqual(1);
  });

  it('writes a deleted PKI Secret back with the same CA', async () => {
    const before = await secretPki();
    await core.deleteNamespacedSecret({ namespace: system, name: TLS_SECRET });
    const after = await eventually(async () => {
      const p = await secretPki();
      if (!p) throw new Error('not written back yet');
      return p;
    });
    expect(after.caCert).toBe(before?.caCert);
    expect(after.cert).toBe(before?.cert);
  });

  it('reissues a broken serving certificate from the CA and serves it', async () => {
    const handle = op as OperatorHandle;
    const before = await secretPki();
    if (!before) throw new Error('no PKI Secret');
    await core.replaceNamespacedSecret({
      namespace: system,
      name: TLS_SECRET,
      body: {
        metadata: { name: TLS_SECRET, namespace: system },
        stringData: {
          'ca.crt': before.caCert,
          'ca.key': before.caKey,
          'tls.crt': 'not a certificate',
          'tls.key': before.key,
        },
      },
    });
    const repaired = await eventually(async () => {
      const p = await secretPki();
      if (!p || !servingUsable(p, HOSTS)) throw new Error('not repaired yet');
      return p;
    });
    expect(repaired.caCert).toBe(before.caCert);
    expect(repaired.cert).not.toBe(before.cert);
    await eventually(async () => {
      const served = await servedCert(handle.configPort, handle.caCert);
      if (!served.equals(der(repaired.cert))) throw new Error('the reissued certificate is not served yet');
    });
  });
});

describe('Warning Events for rejected key Secrets', () => {
  it('records MissingKey and DuplicateKey on the Secret, once, without the key', async () => {
    const KEY = 'tg-pki-dup-key-0123456789';
    await ai.secret('key-a', { key: KEY }, { 'tollgate.dev/api-key': 'true' });
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has 1 s resolution: key-a is older
    await ai.secret('key-b', { key: KEY }, { 'tollgate.dev/api-key': 'true' });
    await ai.secret('key-empty', { other: 'x' }, { 'tollgate.dev/api-key': 'true' });
    const events = await eventually(async () => {
      const list = await core.listNamespacedEvent({ namespace: ai.namespace });
      const dup = mine(list.items).filter((e) => e.involvedObject.name === 'key-b' && e.reason === 'DuplicateKey');
      const missing = mine(list.items).filter(
        (e) => e.involvedObject.name === 'key-empty' && e.reason === 'MissingKey',
      );
      if (dup.length === 0 || missing.length === 0) throw new Error('events not there yet');
      return { dup, missing, all: list.items };
    });
    for (const e of [...events.dup, ...events.missing]) {
      expect(e.type).toBe('Warning');
      expect(e.involvedObject).toMatchObject({ kind: 'Secret', apiVersion: 'v1' });
      expect(e.involvedObject.uid).toBeTruthy();
      expect(e.message).not.toContain(KEY);
    }
    expect(events.dup[0]?.message).toContain('key-a');
    expect(mine(events.all).some((e) => e.involvedObject.name === 'key-a')).toBe(false);
    // Later reconciles do not repeat an unchanged rejection.
    await ai.create('LLMProvider', 'p', { type: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1' });
    await ai.waitCondition('LLMProvider', 'p', 'Accepted', { status: 'True' });
    const again = await core.listNamespacedEvent({ namespace: ai.namespace });
    expect(mine(again.items).filter((e) => e.involvedObject.name === 'key-b')).toHaveLength(1);
  });
});

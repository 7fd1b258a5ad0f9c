/**
 * The config channel's PKI: a CA and a serving certificate signed by it, made with the `openssl` CLI
 * (node:crypto cannot sign X.509; see docs/adr/0022-operator-pki-openssl.md). Keys exist on disk only
 * inside a private temporary directory that is removed at once.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr || e.message).trim()}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** SANs: DNS names and IP addresses (IPv4/IPv6 literals are recognised). */
function sanList(hosts: readonly string[]): string {
  return hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

async function signServing(dir: string, hosts: readonly string[], days: number): Promise<void> {
  await writeFile(
    join(dir, 'serving.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${sanList(hosts)}`,
      '',
    ].join('\n'),
  );
  await openssl(['req', '-new', ...EC, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=tollgate-operator'], dir);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'tls.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${Date.now().toString(16)}`,
      '-days',
      String(days),
      '-extfile',
      'serving.ext',
      '-out',
      'tls.crt',
    ],
    dir,
  );
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-pki-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A new CA (10 years) and a serving certificate (1 year) for `hosts`. */
export function createPki(hosts: readonly string[]): Promise<Pki> {
  return inTempDir(async (dir) => {
    await openssl(
      [
        'req',
        '-x509',
        ...EC,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '3650',
        '-subj',
        '/CN=tollgate-config-ca',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    await signServing(dir, hosts, 365);
    const read = (f: string) => readFile(join(dir, f), 'utf8');
    return {
      caCert: await read('ca.crt'),
      caKey: await read('ca.key'),
      cert: await read('tls.crt'),
      key: await read('tls.key'),
    };
  });
}

/** A new serving certificate from an existing CA. */
export function reissueServing(ca: { caCert: string; caKey: string }, hosts: readonly string[]): Promise<Pki> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'ca.crt'), ca.caCert);
    await writeFile(join(dir, 'ca.key'), ca.caKey, { mode: 0o600 });
    await signServing(dir, hosts, 365);
    const read = (f: string) => readFile(join(dir, f), 'utf8');
    return { ...ca, cert: await read('tls.crt'), key: await read('tls.key') };
  });
}

/**
 * True when the serving certificate is valid for at least `marginMs` more, covers `hosts`, chains to the
 * CA and matches its private key.
 */
export function servingUsable(pki: Pki, hosts: readonly string[], marginMs = 30 * 86_400_000): boolean {
  try {
    const cert = new X509Certificate(pki.cert);
    const ca = new X509Certificate(pki.caCert);
    if (!cert.verify(ca.publicKey)) return false;
    const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' });
    if (!spki(createPublicKey(createPrivateKey(pki.key))).equals(spki(cert.publicKey))) return false;
    if (Date.parse(cert.validTo) - Date.now() < marginMs) return false;
    const san = cert.subjectAltName ?? '';
    return hosts.every((h) => san.includes(/^[\d.]+$|:/.test(h) ? `IP Address:${h}` : `DNS:${h}`));
  } catch {
    return false;
  }
}

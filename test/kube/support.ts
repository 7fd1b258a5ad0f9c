/**
 * Helpers for tests in the jest project "kube": an admin client for the server that
 * jest-global-setup.ts started, the kubectl/helm binaries, and API error unpacking.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';

const run = promisify(execFile);

/** The admin KubeConfig. Throws, never skips, when the global setup did not provide a server. */
export function adminConfig(): KubeConfig {
  const path = process.env.KUBECONFIG;
  if (!path) {
    throw new Error(
      'KUBECONFIG is not set: run these tests in the jest project "kube" (global setup test/kube/jest-global-setup.ts)',
    );
  }
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function kubeBin(name: 'kubectl' | 'helm'): string {
  const dir = process.env.TOLLGATE_KUBE_BIN;
  if (!dir) throw new Error('TOLLGATE_KUBE_BIN is not set: the kube global setup did not run');
  return join(dir, name);
}

/** Runs kubectl or helm against the test server; rejects with stderr on a non-zero exit. */
export async function tool(
  name: 'kubectl' | 'helm',
  args: string[],
  input?: string,
): Promise<{ stdout: string; stderr: string }> {
  const helmHome = join(tmpdir(), 'tollgate-helm');
  const env = {
    ...process.env,
    KUBECONFIG: adminKubeconfigPath(),
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
  if (input === undefined) {
    try {
      return await run(kubeBin(name), args, { env, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${name} ${args.join(' ')} failed:\n${e.stderr || e.stdout || e.message}`);
    }
  }
  return new Promise((resolve, reject) => {
    const child = execFile(kubeBin(name), args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} ${args.join(' ')} failed:\n${stderr || stdout || error.message}`));
      else resolve({ stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

export function adminKubeconfigPath(): string {
  const path = process.env.KUBECONFIG;
  if (!path) throw new Error('KUBECONFIG is not set: the kube global setup did not run');
  return path;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Creates a namespace with a unique name (there is no namespace controller to delete it later). */
export async function createNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export interface ApiError {
  code: number;
  reason?: string;
  message: string;
}

/** The HTTP code and Status message of a failed API call (client-node keeps the raw body). */
export function apiError(error: unknown): ApiError {
  if (error instanceof ApiException) {
    const raw = error.body as unknown;
    let status: { reason?: string; message?: string } = {};
    try {
      status = typeof raw === 'string' ? JSON.parse(raw) : ((raw as typeof status) ?? {});
    } catch {
      status = { message: String(raw) };
    }
    return { code: error.code, reason: status.reason, message: status.message ?? String(raw) };
  }
  throw error;
}

/** Resolves to the ApiError a call fails with; throws if the call succeeds. */
export async function expectApiError(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (error) {
    return apiError(error);
  }
  throw new Error('expected the API server to reject the request, but it accepted it');
}

export async function eventually<T>(probe: () => Promise<T>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/**
 * Retries a call the API server answers with 503 or 429 and Retry-After, as client-go does. A CRD
 * update (another test applying crds/) closes the old handler of its resources, and requests in
 * flight then get 503 "apiserver is shutting down" with Retry-After: 1; real clients retry.
 */
export async function withRetryAfter<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiException) || ![429, 503].includes(error.code) || attempt >= attempts) throw error;
      const seconds = Number(error.headers?.['retry-after'] ?? 1);
      await new Promise((r) => setTimeout(r, Math.min(Number.isFinite(seconds) ? seconds : 1, 5) * 1000));
    }
  }
}

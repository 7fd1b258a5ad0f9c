/**
 * Global setup of the jest project "kube": one real etcd + kube-apiserver for the whole run.
 * Tests read KUBECONFIG (admin) and TOLLGATE_KUBE_BIN (kubectl, helm). TOLLGATE_KUBECONFIG points the
 * tests at an already running server instead (for example the one `npm run kube:up` started).
 * A failure to build or start the server fails the run; nothing is skipped.
 */
import { join } from 'node:path';
import type { Kube } from './harness.js';

declare global {
  var __TOLLGATE_KUBE__: Kube | undefined;
}

export default async function globalSetup(_globalConfig: unknown, projectConfig: { rootDir: string }): Promise<void> {
  // jest loads global setup as CommonJS without its moduleNameMapper, so './harness.js' does not
  // resolve here: load the TypeScript file by its real path.
  process.env.TOLLGATE_REPO_ROOT ??= projectConfig.rootDir;
  const harness = (await import(
    join(projectConfig.rootDir, 'test', 'kube', 'harness.ts')
  )) as typeof import('./harness.js');
  const existing = process.env.TOLLGATE_KUBECONFIG;
  if (existing) {
    process.env.KUBECONFIG = existing;
    process.env.TOLLGATE_KUBE_BIN = (await harness.ensureBinaries()).dir;
    return;
  }
  const kube = await harness.startKube();
  globalThis.__TOLLGATE_KUBE__ = kube;
  process.env.KUBECONFIG = kube.kubeconfigPath;
  process.env.TOLLGATE_KUBE_BIN = kube.binaries.dir;
}

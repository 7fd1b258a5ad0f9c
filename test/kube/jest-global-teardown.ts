/** Stops the control plane that jest-global-setup.ts started and removes its directory. */
export default async function globalTeardown(): Promise<void> {
  const kube = globalThis.__TOLLGATE_KUBE__;
  globalThis.__TOLLGATE_KUBE__ = undefined;
  await kube?.stop();
}

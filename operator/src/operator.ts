/**
 * Wires the operator together: PKI Secret → controller (watches + config server) → leader election →
 * health server. `startOperator` returns a handle whose stop() shuts down gracefully (releases the Lease,
 * closes streams), so the CLI and the tests run exactly the same code.
 */

import type { Server } from 'node:http';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { lastGoodTranslator } from '../../dataplane/src/config/last-good.js';
import { translate } from '../../dataplane/src/config/translate.js';
import type { Logger } from '../../dataplane/src/log.js';
import { createPki, reissueServing, servingUsable } from './certs.js';
import { Controller } from './controller.js';
import type { OperatorFlags } from './flags.js';
import { createHealthServer, listen } from './health.js';
import { createPkiSecret, readPkiSecret, writePkiSecret } from './kube-io.js';
import { LeaderElector } from './leader.js';
import { renderOperatorMetrics } from './metrics.js';
import { PkiWatcher } from './pki-watch.js';
import { QuotaUsageReader } from './quota-usage.js';

export interface OperatorHandle {
  controller: Controller;
  elector?: LeaderElector;
  configPort: number;
  healthPort: number;
  /** PEM of the config channel's CA (what data-plane pods trust); follows the PKI Secret. */
  readonly caCert: string;
  pkiWatcher: PkiWatcher;
  stop(): Promise<void>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export async function startOperator(flags: Readonly<OperatorFlags>, logger: Logger): Promise<OperatorHandle> {
  const kc = loadKubeConfig(flags.kubeconfig);
  const ns = flags.leaseNamespace;
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(CoreV1Api);

  let pki = await readPkiSecret(core, ns, flags.tlsSecret);
  if (!pki) {
    pki = await createPkiSecret(core, ns, flags.tlsSecret, await createPki(flags.tlsHosts));
    logger.info('created the config channel CA', { secret: `${ns}/${flags.tlsSecret}` });
  } else if (!servingUsable(pki, flags.tlsHosts)) {
    pki = await reissueServing(pki, flags.tlsHosts);
    await writePkiSecret(core, ns, flags.tlsSecret, pki);
    logger.info('reissued the config channel serving certificate', { secret: `${ns}/${flags.tlsSecret}` });
  }

  const controller = new Controller({
    kc,
    translate: lastGoodTranslator(translate),
    logger,
    ...(flags.namespaces ? { namespaces: flags.namespaces } : {}),
    requireKeys: flags.requireKeys,
    instance: flags.podName,
    dataPlaneServiceAccounts: flags.dataPlaneServiceAccounts,
    tls: { cert: pki.cert, key: pki.key },
    ...(flags.snapshotSecret ? { snapshotSecret: { namespace: ns, name: flags.snapshotSecret } } : {}),
    ...(flags.redis
      ? { quotaUsage: { reader: await QuotaUsageReader.connect(flags.redis), intervalMs: flags.quotaStatusIntervalMs } }
      : {}),
  });
  if (!flags.redis)
    logger.info(
      'no --redis (or TOLLGATE_REDIS_URL): QuotaPolicy status carries no usage (counters are per data-plane pod)',
    );

  // While running: a rotated, deleted or broken PKI Secret is reloaded, written back or reissued.
  const pkiWatcher = new PkiWatcher({
    core,
    watch: new Watch(kc),
    namespace: ns,
    name: flags.tlsSecret,
    hosts: flags.tlsHosts,
    initial: pki,
    isLeader: () => controller.isLeader,
    apply: (next) => controller.configServer.setCertificate({ cert: next.cert, key: next.key }),
    logger,
  });

  let synced = false;
  let listening = false;
  const health: Server = createHealthServer({
    ready: () => synced && listening,
    metrics: () =>
      renderOperatorMetrics({
        isLeader: controller.isLeader,
        metrics: controller.metrics,
        configVersion: controller.servedConfig?.version ?? 0,
        connectedDataplanes: controller.configServer.pods().length,
      }),
  });
  const healthPort = await listen(health, flags.healthListen.port, flags.healthListen.host);

  await controller.start();
  synced = true;
  const configPort = await controller.configServer.listen(flags.configListen.port, flags.configListen.host);
  listening = true;
  logger.info('config channel listening', { port: configPort });

  let elector: LeaderElector | undefined;
  if (flags.leaderElect) {
    elector = new LeaderElector({
      api: controller.coordination,
      namespace: ns,
      name: flags.leaseName,
      identity: flags.podName,
      leaseDurationMs: flags.leaseDurationMs,
      renewDeadlineMs: flags.renewDeadlineMs,
      retryPeriodMs: flags.retryPeriodMs,
      logger,
      onStartedLeading: async () => {
        await controller.startLeading();
        pkiWatcher.recheck();
      },
      onStoppedLeading: () => controller.stopLeading(),
    });
    elector.start();
  } else {
    await controller.startLeading();
  }
  pkiWatcher.start();

  let stopping: Promise<void> | undefined;
  return {
    controller,
    ...(elector ? { elector } : {}),
    configPort,
    healthPort,
    get caCert() {
      return pkiWatcher.pki.caCert;
    },
    pkiWatcher,
    stop: () => {
      stopping ??= (async () => {
        await pkiWatcher.stop();
        await elector?.stop();
        await controller.stop();
        await new Promise<void>((resolve) => {
          health.close(() => resolve());
          health.closeAllConnections();
        });
      })();
      return stopping;
    },
  };
}

/**
 * The operator's control loop. Reflectors (watches.ts) fill the SnapshotStore; any relevant change
 * schedules one debounced reconcile of the whole snapshot (coalescer.ts): translate (pure) → publish to
 * the config stream when the hash changed → persist the snapshot Secret → one status write per resource
 * whose status changed (status-writer.ts: Accepted/ResolvedRefs from translate, Programmed from the pods'
 * ACKs, QuotaPolicy usage from usage-loop.ts) → Warning Events for new rejections. Only the leader runs
 * reconcile and serves config; a standby keeps its store warm.
 */
import {
  AuthenticationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { GatewayConfig } from '../../contract/gateway-config.js';
import type { ResourceSnapshot } from '../../dataplane/src/config/resources.js';
import type { Logger } from '../../dataplane/src/log.js';
import { Coalescer } from './coalescer.js';
import { ConfigServer } from './config-server.js';
import { persistSnapshot } from './kube-io.js';
import { advanceIndex, type ProgrammedIndex } from './programmed.js';
import type { Reflector } from './reflector.js';
import { StatusWriter, type TranslatedStatus } from './status-writer.js';
import { SnapshotStore } from './store.js';
import { TokenAuthenticator } from './token-auth.js';
import { UsageLoop, type UsageLoopOptions } from './usage-loop.js';
import { createReflectors } from './watches.js';

export type { TranslatedStatus } from './status-writer.js';

export type TranslateFn = (
  snapshot: ResourceSnapshot,
  opts: { version: number; requireKeys: boolean },
) => { config: GatewayConfig; statuses: TranslatedStatus[] };

export interface ControllerOptions {
  kc: KubeConfig;
  translate: TranslateFn;
  logger: Logger;
  /** Watched namespaces; undefined: all. */
  namespaces?: readonly string[];
  requireKeys: boolean;
  /** Identities allowed on the config channel, `namespace/name` of ServiceAccounts. */
  dataPlaneServiceAccounts: readonly string[];
  tls: { cert: string; key: string };
  /** Where the snapshot for booting pods goes; undefined: not persisted. */
  snapshotSecret?: { namespace: string; name: string };
  /** Coalescing window for bursts of events; default 20 ms. */
  debounceMs?: number;
  resyncMs?: number;
  /** Component name on Events. */
  component?: string;
  /** reportingInstance on Events: this replica's pod name. */
  instance?: string;
  /** QuotaPolicy status.usage from the shared counters; undefined: no usage in status (no Redis). */
  quotaUsage?: UsageLoopOptions;
}

export interface ControllerMetrics {
  reconciles: number;
  reconcileErrors: number;
  statusWrites: number;
  statusWriteErrors: number;
  configsPublished: number;
  usageReads: number;
  usageReadErrors: number;
}

export class Controller {
  readonly store = new SnapshotStore();
  readonly configServer: ConfigServer;
  readonly metrics: ControllerMetrics = {
    reconciles: 0,
    reconcileErrors: 0,
    statusWrites: 0,
    statusWriteErrors: 0,
    configsPublished: 0,
    usageReads: 0,
    usageReadErrors: 0,
  };
  private readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  private readonly reflectors: Reflector[];
  private readonly reconciler: Coalescer;
  private readonly status: StatusWriter;
  private readonly usage: UsageLoop | undefined;
  private leader = false;
  private stopped = false;
  private served: GatewayConfig | undefined;
  private index: ProgrammedIndex = new Map();
  private version = 0;
  private persistChain: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly o: ControllerOptions) {
    this.log = o.logger;
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.coordination = o.kc.makeApiClient(CoordinationV1Api);
    const authn = o.kc.makeApiClient(AuthenticationV1Api);
    const auth = new TokenAuthenticator({
      serviceAccounts: o.dataPlaneServiceAccounts,
      review: async (token) => {
        const r = await authn.createTokenReview({ body: { spec: { token } } });
        return { authenticated: r.status?.authenticated === true, username: r.status?.user?.username };
      },
    });
    this.configServer = new ConfigServer({
      authenticate: (h) => auth.authenticate(h),
      tls: o.tls,
      logger: o.logger.child({ component: 'config-server' }),
      isLeader: () => this.leader,
      onPodsChanged: () => this.schedule(),
    });
    this.reconciler = new Coalescer(
      () => this.reconcile(),
      (error) => {
        this.metrics.reconcileErrors++;
        this.log.error('reconcile failed', { err: error instanceof Error ? error : new Error(String(error)) });
      },
      o.debounceMs ?? 20,
      () => this.leader && !this.stopped,
    );
    this.status = new StatusWriter(
      o.kc.makeApiClient(CustomObjectsApi),
      this.core,
      this.store,
      this.metrics,
      this.log,
      () => this.reconciler.retryLater(),
      o.component ?? 'tollgate-operator',
      o.instance,
    );
    if (o.quotaUsage) {
      this.usage = new UsageLoop(
        o.quotaUsage,
        () => this.served,
        () => this.schedule(),
        this.metrics,
        this.log,
      );
    }
    this.reflectors = createReflectors({
      kc: o.kc,
      store: this.store,
      logger: this.log,
      changed: () => this.schedule(),
      ...(o.namespaces ? { namespaces: o.namespaces } : {}),
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
    });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Starts every list+watch; resolves once all have listed once (the store is complete). */
  async start(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.start()));
    this.log.info('caches synced', { namespaces: this.o.namespaces?.length ? this.o.namespaces : 'all' });
  }

  /** Called by leader election. */
  async startLeading(): Promise<void> {
    this.leader = true;
    // Continue above whatever version any earlier leader served (pods ignore nothing, but logs and
    // Programmed bookkeeping read better with a monotonic version).
    this.version = Math.max(this.version, Date.now());
    this.schedule();
    if (!this.stopped) this.usage?.start();
  }

  async stopLeading(): Promise<void> {
    this.leader = false;
    this.configServer.disconnectAll();
    this.served = undefined;
    this.index = new Map();
    this.usage?.pause();
    this.status.forget();
  }

  /** Coalesces bursts: one reconcile runs at a time, and at most one more is queued behind it. */
  schedule(): void {
    this.reconciler.schedule();
  }

  /** Waits until no reconcile is running or queued (for tests and shutdown). */
  idle(): Promise<void> {
    return this.reconciler.idle();
  }

  private async reconcile(): Promise<void> {
    if (!this.leader) return;
    this.metrics.reconciles++;
    const candidate = Math.max(this.version + 1, Date.now());
    const { config, statuses } = this.o.translate(this.store.snapshot(), {
      version: candidate,
      requireKeys: this.o.requireKeys,
    });
    if (!this.served || this.served.hash !== config.hash) {
      this.version = candidate;
      this.served = config;
      this.index = advanceIndex(this.index, config);
      this.configServer.publish(config);
      this.metrics.configsPublished++;
      this.log.info('config published', {
        version: config.version,
        hash: config.hash,
        providers: config.providers.length,
        routes: config.routes.length,
      });
      this.persist(config);
    }
    await this.status.write({
      statuses,
      pods: this.configServer.pods(),
      index: this.index,
      servedPolicies: new Set(this.served?.quotaPolicies.map((p) => p.id) ?? []),
      usage: this.usage?.usage ?? new Map(),
      capacity: this.usage?.capacity,
      capacityProviders: new Set(this.served?.providers.filter((p) => p.limits !== undefined).map((p) => p.id) ?? []),
      active: () => this.leader && !this.stopped,
    });
  }

  private persist(config: GatewayConfig): void {
    const target = this.o.snapshotSecret;
    if (!target) return;
    this.persistChain = this.persistChain.then(async () => {
      if (this.served?.version !== config.version) return; // a newer one is queued
      try {
        await persistSnapshot(this.core, target.namespace, target.name, config);
      } catch (error) {
        this.log.warn('could not persist the snapshot', {
          err: error instanceof Error ? error : new Error(String(error)),
        });
      }
    });
  }

  get servedConfig(): GatewayConfig | undefined {
    return this.served;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.usage?.stop();
    await this.reconciler.stop();
    await Promise.all(this.reflectors.map((r) => r.stop()));
    await this.persistChain;
    await this.configServer.close();
  }
}

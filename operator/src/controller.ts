/**
 * The operator's control loop. Reflectors fill the SnapshotStore; any relevant change schedules one
 * debounced reconcile of the whole snapshot: translate (pure) → publish to the config stream when the
 * hash changed → persist the snapshot Secret → one status write per resource whose status changed
 * (Accepted/ResolvedRefs from translate, Programmed from the pods' ACKs) → Warning Events for new
 * rejections. Only the leader runs reconcile and serves config; a standby keeps its store warm.
 */
import {
  AuthenticationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  Watch,
} from '@kubernetes/client-node';
import type { GatewayConfig } from '../../contract/gateway-config.js';
import { KEPT_PREFIX } from '../../dataplane/src/config/last-good.js';
import {
  API_GROUP,
  API_VERSION,
  RESOURCE_KINDS,
  type ResourceKind,
  type ResourceSnapshot,
} from '../../dataplane/src/config/resources.js';
import type { Logger } from '../../dataplane/src/log.js';
import { type ConditionInput, mergeStatus, newlyFalse, statusEqual } from './conditions.js';
import { ConfigServer } from './config-server.js';
import { PLURALS, persistSnapshot, recordEvent, statusCode, writeStatus } from './kube-io.js';
import { advanceIndex, type ProgrammedIndex, programmedCondition, resourceKey } from './programmed.js';
import type { QuotaUsageStatus } from './quota-usage.js';
import { type ListResult, Reflector } from './reflector.js';
import { type KubeObject, SnapshotStore, type WatchedKind } from './store.js';
import { TokenAuthenticator } from './token-auth.js';

/** The shape of dataplane/src/config/translate.ts's result that the operator relies on. */
export interface TranslatedStatus {
  kind: ResourceKind | 'Secret';
  namespace: string;
  name: string;
  generation?: number;
  conditions: ConditionInput[];
}
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
  quotaUsage?: {
    reader: {
      read(policies: GatewayConfig['quotaPolicies'], topKeys?: number): Promise<Map<string, QuotaUsageStatus>>;
      close(): Promise<void>;
    };
    intervalMs: number;
    /** perKey policies: how many of the heaviest keys each limit lists; default 5. */
    topKeys?: number;
  };
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
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  private readonly reflectors: Reflector[] = [];
  private leader = false;
  private served: GatewayConfig | undefined;
  private index: ProgrammedIndex = new Map();
  private version = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private persistChain: Promise<void> = Promise.resolve();
  /** Last quota usage read, by policy id (`namespace/name`); written with the next status write. */
  private usage = new Map<string, QuotaUsageStatus>();
  private usageTimer: NodeJS.Timeout | undefined;
  private usageRun: Promise<void> | undefined;
  private lastUsageWarn = 0;
  /** Secret (`namespace/name`) → `reason|message` of the Warning Event last recorded for it. */
  private secretEvents = new Map<string, string>();
  private readonly log: Logger;

  constructor(private readonly o: ControllerOptions) {
    this.log = o.logger;
    this.custom = o.kc.makeApiClient(CustomObjectsApi);
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
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Starts every list+watch; resolves once all have listed once (the store is complete). */
  async start(): Promise<void> {
    const watch = new Watch(this.o.kc);
    const scopes: (string | undefined)[] = this.o.namespaces?.length ? [...this.o.namespaces] : [undefined];
    for (const namespace of scopes) {
      for (const kind of RESOURCE_KINDS) {
        const plural = PLURALS[kind];
        const path = namespace
          ? `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${plural}`
          : `/apis/${API_GROUP}/${API_VERSION}/${plural}`;
        const list = async (): Promise<ListResult> => {
          const base = { group: API_GROUP, version: API_VERSION, plural };
          const res = (
            namespace
              ? await this.custom.listNamespacedCustomObject({ ...base, namespace })
              : await this.custom.listClusterCustomObject(base)
          ) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
          return { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? '' };
        };
        this.addReflector(kind, namespace, path, list, watch);
      }
      // Secrets: every Secret of the namespace, because a provider may reference any name; the store
      // keeps only key Secrets and referenced ones in the snapshot.
      const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
      const list = async (): Promise<ListResult> => {
        const res = namespace
          ? await this.core.listNamespacedSecret({ namespace })
          : await this.core.listSecretForAllNamespaces({});
        return { items: res.items as KubeObject[], resourceVersion: res.metadata?.resourceVersion ?? '' };
      };
      this.addReflector('Secret', namespace, path, list, watch);
    }
    await Promise.all(this.reflectors.map((r) => r.start()));
    this.log.info('caches synced', { namespaces: this.o.namespaces?.length ? this.o.namespaces : 'all' });
  }

  private addReflector(
    kind: WatchedKind,
    namespace: string | undefined,
    path: string,
    list: () => Promise<ListResult>,
    watch: Watch,
  ): void {
    this.reflectors.push(
      new Reflector({
        name: `${kind}${namespace ? ` in ${namespace}` : ''}`,
        path,
        list,
        watch,
        logger: this.log,
        ...(this.o.resyncMs ? { resyncMs: this.o.resyncMs } : {}),
        onList: (items) => {
          if (this.store.replaceAll(kind, items, namespace)) this.schedule();
        },
        onEvent: (type, obj) => {
          const changed = type === 'DELETED' ? this.store.remove(kind, obj) : this.store.apply(kind, obj);
          if (changed) this.schedule();
        },
      }),
    );
  }

  /** Called by leader election. */
  async startLeading(): Promise<void> {
    this.leader = true;
    // Continue above whatever version any earlier leader served (pods ignore nothing, but logs and
    // Programmed bookkeeping read better with a monotonic version).
    this.version = Math.max(this.version, Date.now());
    this.schedule();
    // The first usage read comes soon after the first config; then every interval.
    const q = this.o.quotaUsage;
    if (q) this.scheduleUsage(Math.min(q.intervalMs, 1000));
  }

  async stopLeading(): Promise<void> {
    this.leader = false;
    this.configServer.disconnectAll();
    this.served = undefined;
    this.index = new Map();
    if (this.usageTimer) clearTimeout(this.usageTimer);
    this.usageTimer = undefined;
    this.usage = new Map();
    this.secretEvents = new Map();
  }

  private scheduleUsage(ms: number): void {
    if (this.stopped || !this.leader || this.usageTimer) return;
    this.usageTimer = setTimeout(() => {
      this.usageTimer = undefined;
      this.usageRun = this.refreshUsage().finally(() => {
        this.usageRun = undefined;
        if (this.o.quotaUsage) this.scheduleUsage(this.o.quotaUsage.intervalMs);
      });
    }, ms);
  }

  /**
   * Reads every served policy's counters (the "load" half for status.usage) and schedules a reconcile,
   * which writes them with the conditions in one status write. On a Redis error the previous usage stays
   * (its lastUpdated says how old it is) and the next interval tries again.
   */
  private async refreshUsage(): Promise<void> {
    const q = this.o.quotaUsage;
    const served = this.served;
    if (!q || !served || !this.leader || this.stopped) return;
    try {
      this.metrics.usageReads++;
      this.usage = await q.reader.read(served.quotaPolicies, q.topKeys ?? 5);
      this.schedule();
    } catch (error) {
      this.metrics.usageReadErrors++;
      const now = Date.now();
      if (now - this.lastUsageWarn > 60_000) {
        this.lastUsageWarn = now;
        this.log.warn('could not read quota usage from redis; status keeps the last reading', {
          err: error instanceof Error ? error : new Error(String(error)),
        });
      }
    }
  }

  /** Coalesces bursts: one reconcile runs at a time, and at most one more is queued behind it. */
  schedule(): void {
    if (this.stopped || !this.leader) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.reconcile()
        .catch((error: unknown) => {
          this.metrics.reconcileErrors++;
          this.log.error('reconcile failed', { err: error instanceof Error ? error : new Error(String(error)) });
          this.retryLater();
        })
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.schedule();
          }
        });
    }, this.o.debounceMs ?? 20);
  }

  /** After a failure: reconcile again in a second (not in a hot loop). */
  private retryLater(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, 1000);
  }

  /** Waits until no reconcile is running or queued (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      await this.running;
      if (this.timer) await new Promise((r) => setTimeout(r, (this.o.debounceMs ?? 20) + 5));
    }
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
    await this.writeStatuses(statuses);
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

  private async writeStatuses(statuses: readonly TranslatedStatus[]): Promise<void> {
    const pods = this.configServer.pods();
    const now = new Date();
    const byKey = new Map(statuses.map((s) => [resourceKey(s.kind, s.namespace, s.name), s]));
    const servedPolicies = new Set(this.served?.quotaPolicies.map((p) => p.id) ?? []);
    for (const kind of RESOURCE_KINDS) {
      for (const r of this.store.all(kind)) {
        if (!this.leader || this.stopped) return;
        const key = resourceKey(kind, r.meta.namespace, r.meta.name);
        const t = byKey.get(key);
        const desired: ConditionInput[] = t
          ? t.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }))
          : [];
        if (kind !== 'QuotaPolicy') {
          // A resource whose last good version stands in (last-good.ts) is not served at this generation.
          const accepted =
            desired.find((c) => c.type === 'Accepted')?.status === 'True' &&
            !desired.some((c) => c.message.startsWith(KEPT_PREFIX));
          desired.push(programmedCondition(this.index.get(key), pods, accepted));
        }
        const next = mergeStatus(r.status, desired, r.meta.generation, now);
        if (kind === 'QuotaPolicy') {
          // This term's reading; else, for a served policy not read yet in this term (a new leader while
          // Redis is away), the last reading in its status, whose lastUpdated says how old it is. A policy
          // that stops being served loses stale usage.
          const id = `${r.meta.namespace}/${r.meta.name}`;
          const u = this.usage.get(id) ?? (servedPolicies.has(id) ? r.status : undefined);
          next.usage = u?.usage;
          next.lastUpdated = u?.lastUpdated;
        }
        if (statusEqual(r.status, next)) continue;
        const previous = r.status;
        try {
          this.metrics.statusWrites++;
          const rv = await writeStatus(this.custom, kind, r.meta.namespace, r.meta.name, next, {
            apiVersion: `${API_GROUP}/${API_VERSION}`,
            kind,
            metadata: { ...r.meta },
            spec: r.spec,
            ...(r.status ? { status: r.status } : {}),
          });
          if (rv) this.store.setStatus(kind, r.meta.namespace, r.meta.name, next, rv);
        } catch (error) {
          this.metrics.statusWriteErrors++;
          this.log.warn('status write failed', {
            resource: key,
            code: statusCode(error),
            err: error instanceof Error ? error : new Error(String(error)),
          });
          this.retryLater();
          continue;
        }
        for (const type of ['Accepted', 'ResolvedRefs']) {
          const c = newlyFalse(previous, next, type);
          if (!c) continue;
          recordEvent(
            this.core,
            { kind, namespace: r.meta.namespace, name: r.meta.name, ...(r.meta.uid ? { uid: r.meta.uid } : {}) },
            'Warning',
            c.reason,
            c.message,
            this.o.component ?? 'tollgate-operator',
            this.o.instance,
          ).catch((error: unknown) =>
            this.log.warn('could not record event', {
              resource: key,
              err: error instanceof Error ? error : new Error(String(error)),
            }),
          );
        }
      }
    }
    this.secretWarnings(statuses);
  }

  /**
   * API key Secrets have no status of their own: a rejected one (MissingKey, DuplicateKey) gets a Warning
   * Event, once per distinct reason and message (again after a leader change, which forgets them).
   */
  private secretWarnings(statuses: readonly TranslatedStatus[]): void {
    const seen = new Set<string>();
    for (const s of statuses) {
      if (s.kind !== 'Secret') continue;
      const key = `${s.namespace}/${s.name}`;
      seen.add(key);
      const bad = s.conditions.find((c) => c.status === 'False');
      if (!bad) {
        this.secretEvents.delete(key);
        continue;
      }
      const signature = `${bad.reason}|${bad.message}`;
      if (this.secretEvents.get(key) === signature) continue;
      this.secretEvents.set(key, signature);
      const uid = this.store.secretUid(s.namespace, s.name);
      recordEvent(
        this.core,
        { kind: 'Secret', namespace: s.namespace, name: s.name, ...(uid ? { uid } : {}) },
        'Warning',
        bad.reason,
        bad.message,
        this.o.component ?? 'tollgate-operator',
        this.o.instance,
      ).catch((error: unknown) => {
        this.secretEvents.delete(key); // try again at the next reconcile
        this.log.warn('could not record event', {
          resource: `Secret/${key}`,
          err: error instanceof Error ? error : new Error(String(error)),
        });
      });
    }
    for (const key of [...this.secretEvents.keys()]) if (!seen.has(key)) this.secretEvents.delete(key);
  }

  get servedConfig(): GatewayConfig | undefined {
    return this.served;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = undefined;
    if (this.usageTimer) clearTimeout(this.usageTimer);
    this.usageTimer = undefined;
    await this.usageRun;
    await this.running;
    await this.o.quotaUsage?.reader.close().catch(() => {});
    await Promise.all(this.reflectors.map((r) => r.stop()));
    await this.persistChain;
    await this.configServer.close();
  }
}

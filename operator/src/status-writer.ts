/**
 * The "one status write" half of reconcile: per watched resource, the conditions translate decided
 * (Accepted, ResolvedRefs), Programmed from the pods' ACKs and, for QuotaPolicies, the last usage
 * reading, merged into its status and written only when it changed; Warning Events for conditions that
 * newly turned False and for rejected key Secrets (which have no status of their own).
 */
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { KEPT_PREFIX } from '../../dataplane/src/config/last-good.js';
import { API_GROUP, API_VERSION, RESOURCE_KINDS, type ResourceKind } from '../../dataplane/src/config/resources.js';
import type { Logger } from '../../dataplane/src/log.js';
import type { CapacityStatus } from './capacity-usage.js';
import { type ConditionInput, mergeStatus, newlyFalse, statusEqual } from './conditions.js';
import { recordEvent, statusCode, writeStatus } from './kube-io.js';
import { type ProgrammedIndex, programmedCondition, resourceKey } from './programmed.js';
import type { QuotaUsageStatus } from './quota-usage.js';
import type { SnapshotStore } from './store.js';

/** The shape of dataplane/src/config/translate.ts's result that the operator relies on. */
export interface TranslatedStatus {
  kind: ResourceKind | 'Secret';
  namespace: string;
  name: string;
  generation?: number;
  conditions: ConditionInput[];
}

/** What one status pass needs to know about the current term. */
export interface StatusInputs {
  statuses: readonly TranslatedStatus[];
  /** Connected pods and the versions they acknowledged (Programmed). */
  pods: Parameters<typeof programmedCondition>[1];
  index: ProgrammedIndex;
  /** Ids of the QuotaPolicies in the served config. */
  servedPolicies: ReadonlySet<string>;
  usage: ReadonlyMap<string, QuotaUsageStatus>;
  /** LLMProvider capacity in use, by provider id (absent: none in status). */
  capacity?: ReadonlyMap<string, CapacityStatus>;
  /** Ids of the providers with capacity limits in the served config (their last reading stays until read). */
  capacityProviders?: ReadonlySet<string>;
  /** False once leadership is lost or the controller stops: the pass ends early. */
  active(): boolean;
}

export interface StatusCounters {
  statusWrites: number;
  statusWriteErrors: number;
}

export class StatusWriter {
  /** Secret (`namespace/name`) → `reason|message` of the Warning Event last recorded for it. */
  private secretEvents = new Map<string, string>();

  constructor(
    private readonly custom: CustomObjectsApi,
    private readonly core: CoreV1Api,
    private readonly store: SnapshotStore,
    private readonly metrics: StatusCounters,
    private readonly log: Logger,
    /** A write failed: reconcile again later. */
    private readonly retryLater: () => void,
    private readonly component: string,
    private readonly instance: string | undefined,
  ) {}

  /** A new term records Secret warnings afresh. */
  forget(): void {
    this.secretEvents = new Map();
  }

  async write(i: StatusInputs): Promise<void> {
    const now = new Date();
    const byKey = new Map(i.statuses.map((s) => [resourceKey(s.kind, s.namespace, s.name), s]));
    for (const kind of RESOURCE_KINDS) {
      for (const r of this.store.all(kind)) {
        if (!i.active()) return;
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
          desired.push(programmedCondition(i.index.get(key), i.pods, accepted));
        }
        const next = mergeStatus(r.status, desired, r.meta.generation, now);
        if (kind === 'QuotaPolicy') {
          // This term's reading; else, for a served policy not read yet in this term (a new leader while
          // Redis is away), the last reading in its status, whose lastUpdated says how old it is. A policy
          // that stops being served loses stale usage.
          const id = `${r.meta.namespace}/${r.meta.name}`;
          const u = i.usage.get(id) ?? (i.servedPolicies.has(id) ? r.status : undefined);
          next.usage = u?.usage;
          next.lastUpdated = u?.lastUpdated;
        } else if (kind === 'LLMProvider') {
          // Capacity in use, kept like QuotaPolicy usage (ADR 0063).
          const id = `${r.meta.namespace}/${r.meta.name}`;
          const c = i.capacity?.get(id) ?? (i.capacityProviders?.has(id) ? r.status : undefined);
          next.capacity = c?.capacity;
          next.lastUpdated = c?.lastUpdated;
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
          const ref = {
            kind,
            namespace: r.meta.namespace,
            name: r.meta.name,
            ...(r.meta.uid ? { uid: r.meta.uid } : {}),
          };
          this.event(ref, c.reason, c.message, key).catch(() => {});
        }
      }
    }
    this.secretWarnings(i.statuses);
  }

  /** Records a Warning Event; a failure is logged (and rejects, for the caller's bookkeeping). */
  private async event(
    ref: { kind: ResourceKind | 'Secret'; namespace: string; name: string; uid?: string },
    reason: string,
    message: string,
    resource: string,
  ): Promise<void> {
    try {
      await recordEvent(this.core, ref, 'Warning', reason, message, this.component, this.instance);
    } catch (error) {
      this.log.warn('could not record event', {
        resource,
        err: error instanceof Error ? error : new Error(String(error)),
      });
      throw error;
    }
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
      const ref = { kind: 'Secret' as const, namespace: s.namespace, name: s.name, ...(uid ? { uid } : {}) };
      this.event(ref, bad.reason, bad.message, `Secret/${key}`).catch(() => {
        this.secretEvents.delete(key); // try again at the next reconcile
      });
    }
    for (const key of [...this.secretEvents.keys()]) if (!seen.has(key)) this.secretEvents.delete(key);
  }
}

/**
 * Pure status logic: metav1.Condition lists for LLMProvider, LLMRoute and QuotaPolicy. Merging keeps
 * lastTransitionTime when a condition's status does not change, so an unchanged resource produces an
 * identical status and the status writer can skip it.
 */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** What translate or the operator decides for one condition (no timestamps). */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** metav1.Condition as stored in status.conditions. */
export interface Condition extends ConditionInput {
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface ResourceStatus {
  observedGeneration?: number;
  conditions: Condition[];
  /** QuotaPolicy only: consumption per limit, read from the shared counters (operator/src/quota-usage.ts). */
  usage?: unknown[];
  /** LLMProvider only: capacity in use per limit (operator/src/capacity-usage.ts). */
  capacity?: unknown[];
  /** QuotaPolicy and LLMProvider: when `usage` / `capacity` was read. */
  lastUpdated?: string;
}

/** Order in which conditions are written (stable output for diffs and kubectl). */
const ORDER = ['Accepted', 'ResolvedRefs', 'Programmed'];

function rank(type: string): number {
  const i = ORDER.indexOf(type);
  return i === -1 ? ORDER.length : i;
}

/**
 * The status to write: desired conditions stamped with observedGeneration, keeping the previous
 * lastTransitionTime of every condition whose status is unchanged.
 */
export function mergeStatus(
  previous: ResourceStatus | undefined,
  desired: readonly ConditionInput[],
  generation: number | undefined,
  now: Date,
): ResourceStatus {
  const before = new Map((previous?.conditions ?? []).map((c) => [c.type, c]));
  const conditions = [...desired]
    .sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type))
    .map((d): Condition => {
      const old = before.get(d.type);
      const lastTransitionTime =
        old && old.status === d.status && old.lastTransitionTime ? old.lastTransitionTime : now.toISOString();
      const c: Condition = {
        type: d.type,
        status: d.status,
        reason: d.reason,
        message: truncate(d.message),
        lastTransitionTime,
      };
      if (generation !== undefined) c.observedGeneration = generation;
      return c;
    });
  const status: ResourceStatus = { conditions };
  if (generation !== undefined) status.observedGeneration = generation;
  return status;
}

/** metav1.Condition.message is limited to 32768 characters by the API server. */
function truncate(message: string): string {
  return message.length > 32768 ? `${message.slice(0, 32765)}...` : message;
}

/** True when two statuses are the same as far as the API server would store them. */
export function statusEqual(a: ResourceStatus | undefined, b: ResourceStatus): boolean {
  if (!a) return false;
  if ((a.observedGeneration ?? undefined) !== (b.observedGeneration ?? undefined)) return false;
  if ((a.lastUpdated ?? undefined) !== (b.lastUpdated ?? undefined)) return false;
  if (JSON.stringify(a.usage ?? null) !== JSON.stringify(b.usage ?? null)) return false;
  if (JSON.stringify(a.capacity ?? null) !== JSON.stringify(b.capacity ?? null)) return false;
  const ac = a.conditions ?? [];
  if (ac.length !== b.conditions.length) return false;
  return b.conditions.every((c, i) => {
    const o = ac[i];
    return (
      o !== undefined &&
      o.type === c.type &&
      o.status === c.status &&
      o.reason === c.reason &&
      o.message === c.message &&
      o.lastTransitionTime === c.lastTransitionTime &&
      (o.observedGeneration ?? undefined) === (c.observedGeneration ?? undefined)
    );
  });
}

/** A condition that newly turned False (was absent or not False before): worth a Warning Event. */
export function newlyFalse(
  previous: ResourceStatus | undefined,
  next: ResourceStatus,
  type: string,
): Condition | undefined {
  const c = next.conditions.find((x) => x.type === type);
  if (c?.status !== 'False') return undefined;
  const old = previous?.conditions?.find((x) => x.type === type);
  if (old && old.status === 'False' && old.reason === c.reason && old.message === c.message) return undefined;
  return c;
}

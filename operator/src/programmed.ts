/**
 * Pure bookkeeping for the Programmed condition. For every provider and route in the served config the
 * operator remembers the first config version that carried its current content (generation, resolved
 * credential, backends...). The resource is Programmed once every connected data-plane pod has
 * acknowledged applying a version at least that new.
 */
import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../../contract/gateway-config.js';
import type { ConditionInput } from './conditions.js';

export interface ProgrammedEntry {
  /** Fingerprint of the resource's entry in the config (never logged: it may cover a credential). */
  fingerprint: string;
  /** First config version that carried this fingerprint. */
  since: number;
  generation?: number;
}

export type ProgrammedIndex = ReadonlyMap<string, ProgrammedEntry>;

export function resourceKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** The index after serving `config`: unchanged entries keep their `since`, changed or new ones get config.version. */
export function advanceIndex(previous: ProgrammedIndex, config: GatewayConfig): Map<string, ProgrammedEntry> {
  const next = new Map<string, ProgrammedEntry>();
  const add = (key: string, entry: unknown, generation: number | undefined) => {
    const fp = fingerprint(entry);
    const old = previous.get(key);
    next.set(key, {
      fingerprint: fp,
      since: old && old.fingerprint === fp ? old.since : config.version,
      ...(generation !== undefined ? { generation } : {}),
    });
  };
  for (const p of config.providers) add(resourceKey('LLMProvider', p.namespace, p.name), p, p.generation);
  for (const r of config.routes) add(resourceKey('LLMRoute', r.namespace, r.name), r, r.generation);
  return next;
}

/** A connected data-plane pod as the config server sees it. */
export interface PodAck {
  /** Last version the pod reported as applied; undefined until its first ACK. */
  appliedVersion?: number;
}

/**
 * The Programmed condition of one resource. `accepted` false: it is not in the config at all.
 */
export function programmedCondition(
  entry: ProgrammedEntry | undefined,
  pods: readonly PodAck[],
  accepted: boolean,
): ConditionInput {
  if (!accepted || !entry) {
    return {
      type: 'Programmed',
      status: 'False',
      reason: 'NotAccepted',
      message: 'The resource is not part of the served config until it is accepted.',
    };
  }
  if (pods.length === 0) {
    return {
      type: 'Programmed',
      status: 'False',
      reason: 'NoDataPlane',
      message: 'No data-plane pod is connected to the operator.',
    };
  }
  const behind = pods.filter((p) => p.appliedVersion === undefined || p.appliedVersion < entry.since).length;
  if (behind > 0) {
    return {
      type: 'Programmed',
      status: 'False',
      reason: 'Pending',
      message: `${behind} of ${pods.length} data-plane pods have not applied config version ${entry.since} yet.`,
    };
  }
  return {
    type: 'Programmed',
    status: 'True',
    reason: 'Programmed',
    message: `Applied by all ${pods.length} connected data-plane pods.`,
  };
}

/**
 * The attempt loop's slow path when the chosen backend's provider is at its `maxConcurrency` (ADR 0066,
 * docs/routing.md "Concurrency and queueing"): another backend of the tier with room, else a place in the
 * provider's FIFO queue until a slot frees, the route's timeout runs out, or the client leaves. Only calls
 * whose provider is full come here; the rest never allocate for it.
 */
import { GatewayError } from '../errors.js';
import { roomInTier, type SlotWaiter } from '../routing/concurrency.js';
import type { CompiledBackend, CompiledRoute } from '../routing/table.js';
import type { CallShared, RoutedRequest } from './types.js';

/** Seconds a client refused by a full queue is told to wait: a queue turns over on the scale of one answer. */
export const QUEUE_FULL_RETRY_AFTER_S = 1;

/** The call (ProxyCall) while it waits: `waiter` is set while queued, so a client leaving can cancel it. */
export interface QueueingCall {
  waiter: SlotWaiter | undefined;
}

/**
 * A backend with a slot taken for the next try, or the error to answer. `b` is the backend the choice made, its
 * provider at its cap; `tried` the request's tried-mask; `deadline` the route's (performance.now() time).
 */
export async function waitForRoom(
  call: QueueingCall,
  shared: CallShared,
  r: RoutedRequest,
  b: CompiledBackend,
  tried: number,
  deadline: number,
): Promise<CompiledBackend | GatewayError> {
  const route = r.route;
  const other = roomInTier(route, b, tried, shared.health.now(), shared.random);
  // roomInTier saw a free slot (or no cap), and nothing ran since: the acquire succeeds.
  if (other !== undefined && (other.slots === undefined || other.slots.tryAcquire())) return other;
  const slots = b.slots!;
  const name = b.provider.name;
  const remaining = deadline - performance.now();
  if (remaining <= 0) return queueTimeout(name, route);
  const w = slots.wait(remaining);
  if (w === undefined)
    return new GatewayError(
      'queue_full',
      `provider ${name} is at its maxConcurrency (${slots.max}) and its queue is full (${slots.maxQueued} waiting); retry later`,
      { headers: { 'retry-after': String(QUEUE_FULL_RETRY_AFTER_S) } },
    );
  call.waiter = w;
  let outcome = await w.done;
  call.waiter = undefined;
  // The client left between the handover and now: the slot goes on to the next waiter, nothing is sent.
  if (outcome === 'granted' && w.lateCancel !== undefined) {
    slots.release();
    outcome = w.lateCancel;
  }
  try {
    r.observer.queueWait?.(b.provider, b.model ?? r.model, (performance.now() - w.since) / 1000);
  } catch (err) {
    shared.logger.warn('hook queueWait threw', { err });
  }
  if (outcome === 'granted') return b;
  if (outcome === 'timeout') return queueTimeout(name, route);
  if (outcome === 'shutdown') return new GatewayError('shutting_down', 'the gateway is shutting down');
  return new GatewayError('upstream_error', 'client closed the request');
}

function queueTimeout(provider: string, route: CompiledRoute): GatewayError {
  return new GatewayError(
    'queue_timeout',
    `route ${route.id}'s timeout (${route.config.timeoutMs} ms) ran out while waiting for a free slot of provider ${provider} (maxConcurrency); nothing was sent upstream`,
  );
}

/**
 * The cache lookup stage (ADR 0070): on a route with `spec.cache`, the request's key and the store's answer
 * (hit, miss, or bypass when the client said `cache-control: no-cache` / `no-store`) go on the exchange as
 * its CacheState. A hit goes on through the admit stage like any request (it counts against request
 * limits), and the attempt loop then answers it from the entry instead of calling a provider
 * (proxy/call.ts run → CallReport.answerFromCache). An embeddings batch with some items cached goes
 * upstream with the other items only.
 *
 * A route without a cache costs one property read: no allocation, no await.
 */
import type { ResponseCache } from '../../cache/cache.js';
import { embeddingItems } from '../../cache/key.js';
import type { CacheState } from '../../cache/types.js';
import { GatewayError } from '../../errors.js';
import { type Exchange, isRouted, type RoutedExchange } from '../exchange.js';
import type { Stage, StageResult } from '../stage.js';

export function cacheLookupStage(cache: ResponseCache): Stage {
  const run = (x: Exchange): StageResult | Promise<StageResult> => {
    const c = x.route?.cache;
    if (c === undefined) return x;
    if (!isRouted(x)) return new GatewayError('internal', 'the cache lookup stage ran before the route stage');
    const s = cache.lookup(x, c);
    if (s instanceof Promise) return s.then((st) => settle(x, st));
    return settle(x, s);
  };
  return Object.freeze({ name: 'cache-lookup', run });
}

function settle(x: RoutedExchange, s: CacheState): Exchange {
  x.cache = s;
  const items = s.items;
  // Some items cached, some not: only the others go upstream (the answer is merged back, cache/embeddings.ts).
  if (items !== undefined && items.missing.length > 0 && items.missing.length < items.keys.length) {
    const all = embeddingItems(x.body.input) ?? [];
    const input = items.missing.map((i) => all[i]);
    (x as Exchange).body = { ...x.body, input };
  }
  return x;
}

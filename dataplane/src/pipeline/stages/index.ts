/**
 * The stages between the body and the admission, in order (docs/pipeline.md). Adding a stage (guard input,
 * cache lookup, prompt resolution ...) is writing its module and listing it here.
 */
import type { ResponseCache } from '../../cache/cache.js';
import type { Stage } from '../stage.js';
import { cacheLookupStage } from './cache-lookup.js';
import { parseStage } from './parse.js';
import { routeStage } from './route.js';

export const STAGES: readonly Stage[] = Object.freeze([parseStage, routeStage]);

/** The list of a gateway with a response cache (built once, when the gateway is made). */
export function stagesWithCache(cache: ResponseCache): readonly Stage[] {
  return Object.freeze([parseStage, routeStage, cacheLookupStage(cache)]);
}

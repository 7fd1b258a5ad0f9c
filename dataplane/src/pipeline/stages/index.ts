/**
 * The stages between the body and the admission, in order (docs/pipeline.md). Adding a stage (guard input,
 * cache lookup, prompt resolution ...) is writing its module and listing it here.
 */
import type { Stage } from '../stage.js';
import { parseStage } from './parse.js';
import { routeStage } from './route.js';

export const STAGES: readonly Stage[] = Object.freeze([parseStage, routeStage]);

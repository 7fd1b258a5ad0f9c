/** The route stage: the client's model (and headers) → the route it goes to, from the tables built at config load. */
import { GatewayError } from '../../errors.js';
import { matchRoute } from '../../routing/table.js';
import type { Exchange } from '../exchange.js';
import type { Stage, StageResult } from '../stage.js';

/**
 * Longest model name accepted (UTF-8 bytes). A prefix route passes the client's name upstream and into
 * x-tollgate-backend: absurd ones are refused once routed, before admission and before any upstream call.
 */
export const MAX_MODEL_BYTES = 256;

function route(x: Exchange): StageResult {
  const model = x.model;
  if (model === undefined) return new GatewayError('internal', 'the route stage ran before the parse stage');
  const headers = x.req.headers;
  const compiled = matchRoute(x.table, model, (name) => headers[name]);
  if (compiled === undefined)
    return new GatewayError('model_not_found', `model "${model}" is not served by any route you can use`, {
      param: 'model',
    });
  x.compiled = compiled;
  x.route = compiled.config;
  // Only a prefix route can match such a name; refused once routed, so the answer names the route.
  if (model.length > MAX_MODEL_BYTES / 4 && Buffer.byteLength(model) > MAX_MODEL_BYTES)
    return new GatewayError('invalid_request', `model name is longer than ${MAX_MODEL_BYTES} bytes`, {
      param: 'model',
    });
  return x;
}

export const routeStage: Stage = Object.freeze({ name: 'route', run: route });

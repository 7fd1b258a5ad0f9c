/** The route stage: the client's model (and headers) → the route it goes to, from the tables built at config load. */
import { GatewayError } from '../../errors.js';
import { matchRoute } from '../../routing/table.js';
import type { Exchange } from '../exchange.js';
import type { Stage, StageResult } from '../stage.js';

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
  return x;
}

export const routeStage: Stage = Object.freeze({ name: 'route', run: route });

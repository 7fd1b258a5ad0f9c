/**
 * A stage of the request path (docs/pipeline.md, ADR 0043): one module with one job, run over the exchange.
 * It fills in the exchange and returns it, or returns one coded GatewayError (the one writer renders it).
 * A stage that needs I/O returns a Promise of the same; the runner awaits only then, so synchronous
 * stages cost a call and a type check each. Stages are module-level constants: nothing is made per request.
 */
import type { GatewayError } from '../errors.js';
import type { Exchange } from './exchange.js';

export type StageResult = Exchange | GatewayError;

export interface Stage {
  /** Short name, for docs, logs and tests. */
  readonly name: string;
  run(x: Exchange): StageResult | Promise<StageResult>;
}

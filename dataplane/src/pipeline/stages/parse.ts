/**
 * The parse stage: the body's bytes → JSON → the client format's schema (server/validate.ts). Fills in
 * body, model, stream and clientWantsUsage; starts the request's clock.
 */
import { isUtf8 } from 'node:buffer';
import { GatewayError } from '../../errors.js';
import { type ClientRequestInfo, validateClientRequest } from '../../server/validate.js';
import type { Exchange } from '../exchange.js';
import type { Stage, StageResult } from '../stage.js';

function parse(x: Exchange): StageResult {
  x.startedAt = performance.now();
  const buf = x.raw;
  x.raw = undefined;
  if (buf === undefined) return new GatewayError('invalid_json', 'request body is missing');
  // JSON is UTF-8 (RFC 8259); decoding other bytes would silently turn them into U+FFFD.
  if (!isUtf8(buf)) return new GatewayError('invalid_json', 'request body is not valid UTF-8');
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    // V8 quotes the start of the text ("Unexpected token 's', "summarise "... is not valid JSON"): the prompt.
    const reason = (err as Error).message.replace(/, ".*$/s, '');
    return new GatewayError('invalid_json', `request body is not valid JSON: ${reason}`);
  }
  let info: ClientRequestInfo;
  try {
    info = validateClientRequest(x.clientFormat, x.operation, raw);
  } catch (err) {
    // GatewayError('invalid_request', ...) naming the parameter; anything else (a body nested too deep for the
    // stack) goes on to the runner, which turns it into its coded error.
    if (err instanceof GatewayError) return err;
    throw err;
  }
  x.body = info.body;
  x.model = info.model;
  x.stream = info.stream;
  x.clientWantsUsage = info.clientWantsUsage;
  return x;
}

export const parseStage: Stage = Object.freeze({ name: 'parse', run: parse });

/**
 * Request-body validation at the edge: the one function the server calls. The per-format checks are the
 * API schemas' (dataplane/src/api); what the proxy core needs from the body is returned typed.
 */
import { type ClientRequestBody, parseClientRequest } from '../api/parse.js';
import type { ClientFormat } from '../errors.js';
import { clientWantsUsage } from '../providers/index.js';
import type { Operation } from '../providers/types.js';

export interface ClientRequestInfo {
  /** Typed as checked (api/schemas.ts); the same object the client sent. */
  body: ClientRequestBody;
  model: string;
  stream: boolean;
  /** OpenAI `stream_options.include_usage`; Anthropic streams always carry usage. */
  clientWantsUsage: boolean;
}

/** Throws GatewayError('invalid_request', ...) naming the parameter at fault. */
export function validateClientRequest(format: ClientFormat, operation: Operation, raw: unknown): ClientRequestInfo {
  const body = parseClientRequest(format, operation, raw);
  return {
    body,
    model: body.model,
    stream: body.stream === true,
    clientWantsUsage: clientWantsUsage(format, body),
  };
}

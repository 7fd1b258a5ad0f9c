/**
 * Request-body validation at the edge: the one function the server calls. It delegates the per-format
 * checks to the API schemas; what the proxy core needs from the body is returned typed.
 */
import { type ClientFormat, GatewayError } from '../errors.js';
import type { Operation } from '../providers/types.js';

export interface ClientRequestInfo {
  model: string;
  stream: boolean;
  /** OpenAI `stream_options.include_usage`; Anthropic streams always carry usage. */
  clientWantsUsage: boolean;
}

/** Throws GatewayError('invalid_request', ...) naming the parameter at fault. */
export function validateClientRequest(
  format: ClientFormat,
  operation: Operation,
  body: Record<string, unknown>,
): ClientRequestInfo {
  const model = body.model;
  if (typeof model !== 'string' || model === '')
    throw new GatewayError('invalid_request', 'model: expected a non-empty string', { param: 'model' });
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean')
    throw new GatewayError('invalid_request', 'stream: expected a boolean', { param: 'stream' });
  if (operation === 'chat') {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0)
      throw new GatewayError('invalid_request', 'messages: expected a non-empty array', { param: 'messages' });
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as unknown;
      if (typeof m !== 'object' || m === null || typeof (m as { role?: unknown }).role !== 'string')
        throw new GatewayError('invalid_request', `messages[${i}]: expected an object with a string role`, {
          param: `messages[${i}]`,
        });
    }
    if (format === 'anthropic' && typeof body.max_tokens !== 'number')
      throw new GatewayError('invalid_request', 'max_tokens: expected a number', { param: 'max_tokens' });
  } else {
    const input = body.input;
    if (typeof input !== 'string' && !Array.isArray(input))
      throw new GatewayError('invalid_request', 'input: expected a string or an array', { param: 'input' });
  }
  const opts = body.stream_options as { include_usage?: unknown } | undefined | null;
  return {
    model,
    stream: stream === true,
    clientWantsUsage: format === 'anthropic' || (typeof opts === 'object' && opts?.include_usage === true),
  };
}

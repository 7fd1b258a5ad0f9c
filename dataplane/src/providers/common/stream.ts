/**
 * What every stream translator keeps (done, error, usage, model) and the client-visible output text it
 * collects for usage estimation. Pure.
 */
import type { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import type { StreamTranslator, TranslatedResponse, Usage } from '../types.js';
import { badResponse, isRecord, str } from './json.js';

/**
 * The completion text a client received, kept as references to the delta strings (no copy, no join) and
 * joined only when asked: accounting asks only when the provider reported no usage.
 */
export class OutputText {
  private readonly parts: string[] = [];

  add(s: string): void {
    if (s !== '') this.parts.push(s);
  }

  text(): string {
    return this.parts.join('');
  }
}

export abstract class BaseStream implements StreamTranslator {
  done = false;
  error: GatewayError | undefined;
  protected u: Usage | undefined;
  protected model: string | undefined;

  usage(): Usage | undefined {
    return this.u;
  }
  responseModel(): string | undefined {
    return this.model;
  }

  abstract event(ev: SseEvent): SseEvent[];
  abstract outputText(): string;

  end(): SseEvent[] {
    return [];
  }
}

/**
 * The response half of a same-format pair: the body goes back as it is after a shape check (`field` must be
 * an array); usage and the model are read from it.
 */
export function passthroughResponse(
  field: string,
  shapeError: string,
  usageOf: (u: unknown) => Usage | undefined,
  textOf: (body: unknown) => string,
): (body: unknown) => TranslatedResponse {
  return (body) => {
    if (!isRecord(body) || !Array.isArray(body[field])) throw badResponse(shapeError);
    const usage = usageOf(body.usage);
    return { body, usage, responseModel: str(body.model), outputText: usage ? undefined : textOf(body) };
  };
}

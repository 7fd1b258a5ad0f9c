/** Small, allocation-light helpers shared by the translators. Pure. */
import { GatewayError } from '../../errors.js';

export type JsonObject = Record<string, unknown>;

export function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one upstream JSON document (a body or an SSE event's data); garbage → upstream_bad_response. */
export function parseUpstreamJson(text: string, what: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new GatewayError('upstream_bad_response', `upstream sent invalid JSON in ${what}: ${excerpt(text)}`, {
      cause,
    });
  }
  if (!isRecord(v))
    throw new GatewayError('upstream_bad_response', `upstream sent a ${what} that is not a JSON object`);
  return v;
}

export function badResponse(message: string): GatewayError {
  return new GatewayError('upstream_bad_response', message);
}

/** A short, log- and client-safe excerpt of untrusted text: control characters removed, 120 characters at most. */
export function excerpt(text: string, max = 120): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > max ? `"${clean.slice(0, max)}…"` : `"${clean}"`;
}

/** A field the client set (not absent, not null). */
export const set = (v: unknown): boolean => v !== undefined && v !== null;

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Seconds since the epoch, for the `created` field of synthesized OpenAI objects. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** The client request was well-formed JSON but a nested field has the wrong shape. */
export function invalidField(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', `${param}: ${message}`, { param });
}

/** A parameter the target provider cannot take. */
export function unsupported(param: string, message: string): GatewayError {
  return new GatewayError('unsupported_parameter', `${param}: ${message}`, { param });
}

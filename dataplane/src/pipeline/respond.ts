/**
 * The one writer of the request path: everything written to the client goes through here, from the pipeline's
 * stages (refusals in the client's format, probe answers, the pre-rendered model list) and from the attempt
 * loop (response heads with the x-tollgate-* headers, whole JSON answers, stream chunks, error answers and the
 * error event that ends a broken stream). Functions, not an object: no allocation per request.
 * docs/routing.md "Retries" (headers) and "Streams" (ADR 0040); docs/pipeline.md (ADR 0043).
 */
import type { ServerResponse } from 'node:http';
import { type ClientFormat, type GatewayError, renderError } from '../errors.js';

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * Longest `x-tollgate-backend` value written (after percent-encoding). Clients read headers into a bounded
 * buffer (Node: 16 KiB for all of them); a client-chosen model name must not make the answer unreadable.
 */
export const MAX_HEADER_VALUE = 512;

/** Visible ASCII and spaces: what every HTTP client reads in a header value as is. */
const PLAIN_HEADER_VALUE = /^[\x20-\x7e]*$/;

/**
 * A header value Node accepts from a name the client chose (a prefix route passes the model through): bytes
 * outside visible ASCII are percent-encoded as UTF-8 (`gpt-模型` → `gpt-%E6%A8%A1%E5%9E%8B`), and the value is
 * cut at MAX_HEADER_VALUE characters (never inside an escape). Node throws on anything above U+00FF and on
 * control characters.
 */
export function headerSafe(value: string): string {
  if (value.length <= MAX_HEADER_VALUE && PLAIN_HEADER_VALUE.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    let piece = '';
    if (c >= 0x20 && c <= 0x7e) piece = ch;
    else for (const b of Buffer.from(ch, 'utf8')) piece += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (out.length + piece.length > MAX_HEADER_VALUE) break;
    out += piece;
  }
  return out;
}

/** The x-tollgate-* headers (and the admission's own) on an answer, error answers included. */
export function setTollgateHeaders(
  res: ServerResponse,
  routeId: string,
  backend: string | undefined,
  attempts: number,
  extra: Readonly<Record<string, string>> | undefined,
): void {
  res.setHeader('x-tollgate-route', routeId);
  if (backend !== undefined) res.setHeader('x-tollgate-backend', headerSafe(backend));
  res.setHeader('x-tollgate-attempts', String(attempts));
  if (extra !== undefined) for (const k in extra) res.setHeader(k, extra[k] as string);
}

/** Status and content type of a successful answer (an event stream also gets its no-buffering headers). */
export function setAnswerHead(res: ServerResponse, status: number, contentType: string): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  if (contentType === SSE_CONTENT_TYPE) {
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-accel-buffering', 'no');
  }
}

/** A whole body (the head is set): with its length, in one write. */
export function endWithBody(res: ServerResponse, payload: string): void {
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(payload);
}

/**
 * An error answer in the client's format. `extraHeaders` are set after the error's own (retry-after…), e.g.
 * the x-tollgate-* ones. Returns the status written. When the head already went out (a late refusal of a
 * response in progress), it only ends the response.
 */
export function writeError(
  res: ServerResponse,
  format: ClientFormat,
  error: GatewayError,
  extraHeaders?: Readonly<Record<string, string>>,
): number {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return res.statusCode;
  }
  const rendered = renderError(error, format);
  res.statusCode = rendered.status;
  const h = rendered.headers;
  for (const k in h) res.setHeader(k, h[k] as string);
  if (extraHeaders !== undefined) for (const k in extraHeaders) res.setHeader(k, extraHeaders[k] as string);
  endWithBody(res, rendered.body);
  return rendered.status;
}

/** The event that ends a stream broken after its first byte, in the client's format (the SDKs raise it). */
export function errorEvent(error: GatewayError, format: ClientFormat): string {
  const data = renderError(error, format).body;
  return format === 'anthropic' ? `event: error\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

/** A short text/plain answer (ASCII: its length is its byte length). */
export function writePlain(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', text.length);
  res.end(text);
}

/** A 200 with a JSON body rendered ahead of time (GET /v1/models). */
export function writeJson(res: ServerResponse, body: string): void {
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  endWithBody(res, body);
}

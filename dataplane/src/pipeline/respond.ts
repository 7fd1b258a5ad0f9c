/**
 * The one writer of the request path: every answer the pipeline itself sends (an error in the client's
 * format, a plain-text probe answer, a pre-rendered JSON body) goes out here. Answers that come from an
 * upstream are the attempt loop's (proxy/call.ts), which renders its errors with the same renderError.
 */
import type { ServerResponse } from 'node:http';
import { type ClientFormat, type GatewayError, renderError } from '../errors.js';

/** The error in the client's format; when headers already went out, only ends the response. */
export function writeError(res: ServerResponse, format: ClientFormat, err: GatewayError): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const r = renderError(err, format);
  res.statusCode = r.status;
  for (const k in r.headers) res.setHeader(k, r.headers[k]!);
  res.setHeader('content-length', Buffer.byteLength(r.body));
  res.end(r.body);
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
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

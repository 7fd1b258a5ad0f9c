/**
 * AWS event-stream framing (`application/vnd.amazon.eventstream`), what Bedrock's converse-stream answers with:
 * binary messages, not SSE. An incremental decoder with the shape of SseParser (bytes in any chunking → events)
 * and an encoder (the fake upstream and tests build streams with it). Pure; CRCs are verified.
 *
 * One message:
 *   total length (uint32 BE) | headers length (uint32 BE) | prelude CRC32 (of the 8 bytes before it)
 *   headers: repeated { name length (uint8) | name (UTF-8) | value type (uint8) | value }
 *   payload (total − headers − 16 bytes) | message CRC32 (of every byte before it)
 * Header value types: 0 true, 1 false, 2 byte, 3 short, 4 int, 5 long, 6 bytes (uint16 length), 7 string
 * (uint16 length), 8 timestamp (int64 ms), 9 uuid (16 bytes).
 *
 * Each message becomes one SseEvent: `event` = the `:event-type` header (`:message-type: event`), the
 * `:exception-type` header (`:message-type: exception`, e.g. `throttlingException`), or `error` for
 * `:message-type: error` (whose data is then `{"code": :error-code, "message": :error-message}`); `data` = the
 * payload as UTF-8 text (Bedrock's payloads are JSON).
 */
import * as zlib from 'node:zlib';
import { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/sse.js';
import type { StreamDecoder } from '../types.js';

const PRELUDE = 12;
const MIN_MESSAGE = 16;
/** The event-stream spec caps a message at 16 MiB (and headers at 128 KiB). */
const MAX_MESSAGE = 16 * 1024 * 1024;
const MAX_HEADERS = 128 * 1024;

/** CRC32 (IEEE 802.3): node:zlib's (Node 22.2+; engines says >= 24). */
export const crc32: (data: Uint8Array) => number = (d) => zlib.crc32(d);

// ─── decoding ──────────────────────────────────────────────────────────────────────────────────────────

function garbage(message: string): GatewayError {
  return new GatewayError('upstream_bad_response', `upstream sent a malformed event stream: ${message}`);
}

const utf8 = new TextDecoder('utf-8');

/** Reads the headers of one message; string headers only are kept (the others are skipped). */
function readHeaders(buf: Uint8Array, start: number, end: number): Map<string, string> {
  const out = new Map<string, string>();
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = start;
  while (p < end) {
    const nameLen = buf[p]!;
    p++;
    if (nameLen === 0 || p + nameLen + 1 > end) throw garbage('a header name runs past the headers');
    const name = utf8.decode(buf.subarray(p, p + nameLen));
    p += nameLen;
    const type = buf[p]!;
    p++;
    let len: number;
    switch (type) {
      case 0:
      case 1:
        len = 0;
        break;
      case 2:
        len = 1;
        break;
      case 3:
        len = 2;
        break;
      case 4:
        len = 4;
        break;
      case 5:
      case 8:
        len = 8;
        break;
      case 9:
        len = 16;
        break;
      case 6:
      case 7: {
        if (p + 2 > end) throw garbage('a header value length runs past the headers');
        const n = view.getUint16(p);
        p += 2;
        if (p + n > end) throw garbage('a header value runs past the headers');
        if (type === 7) out.set(name, utf8.decode(buf.subarray(p, p + n)));
        p += n;
        continue;
      }
      default:
        throw garbage(`unknown header value type ${type}`);
    }
    if (p + len > end) throw garbage('a header value runs past the headers');
    p += len;
  }
  return out;
}

function toEvent(headers: Map<string, string>, payload: Uint8Array): SseEvent {
  const kind = headers.get(':message-type') ?? 'event';
  if (kind === 'error') {
    return {
      event: 'error',
      data: JSON.stringify({ code: headers.get(':error-code') ?? '', message: headers.get(':error-message') ?? '' }),
    };
  }
  const name = kind === 'exception' ? headers.get(':exception-type') : headers.get(':event-type');
  if (name === undefined)
    throw garbage(`a ${kind} message has no ${kind === 'exception' ? ':exception-type' : ':event-type'} header`);
  return { event: name, data: utf8.decode(payload) };
}

/**
 * Incremental decoder: `push` any chunking of the bytes, get the whole messages completed so far. A CRC mismatch
 * or an impossible length throws GatewayError('upstream_bad_response').
 */
export class EventStreamDecoder implements StreamDecoder {
  private buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): SseEvent[] {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const out: SseEvent[] = [];
    let p = 0;
    const buf = this.buf;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (buf.length - p >= PRELUDE) {
      const total = view.getUint32(p);
      const hlen = view.getUint32(p + 4);
      if (crc32(buf.subarray(p, p + 8)) !== view.getUint32(p + 8)) throw garbage('prelude CRC mismatch');
      if (total < MIN_MESSAGE || total > MAX_MESSAGE || hlen > MAX_HEADERS || hlen > total - MIN_MESSAGE)
        throw garbage(`impossible message length ${total} (headers ${hlen})`);
      if (buf.length - p < total) break;
      const msgEnd = p + total;
      if (crc32(buf.subarray(p, msgEnd - 4)) !== view.getUint32(msgEnd - 4)) throw garbage('message CRC mismatch');
      const hStart = p + PRELUDE;
      const headers = readHeaders(buf, hStart, hStart + hlen);
      out.push(toEvent(headers, buf.subarray(hStart + hlen, msgEnd - 4)));
      p = msgEnd;
    }
    this.buf = p === 0 ? buf : buf.subarray(p);
    return out;
  }

  /** Event-stream messages are self-delimiting: nothing is delivered at the end. */
  end(): SseEvent[] {
    return [];
  }

  /** True when bytes of an unfinished message are pending (a stream cut mid-message). */
  get pending(): boolean {
    return this.buf.length > 0;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// ─── encoding (fake upstream, tests, cassettes) ────────────────────────────────────────────────────────

const utf8e = new TextEncoder();

/** Encodes one message with string headers (type 7). */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? utf8e.encode(payload) : payload;
  const hparts: Uint8Array[] = [];
  let hlen = 0;
  for (const [k, v] of Object.entries(headers)) {
    const name = utf8e.encode(k);
    const value = utf8e.encode(v);
    const h = new Uint8Array(1 + name.length + 1 + 2 + value.length);
    h[0] = name.length;
    h.set(name, 1);
    h[1 + name.length] = 7;
    new DataView(h.buffer).setUint16(2 + name.length, value.length);
    h.set(value, 4 + name.length);
    hparts.push(h);
    hlen += h.length;
  }
  const total = PRELUDE + hlen + body.length + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, hlen);
  view.setUint32(8, crc32(out.subarray(0, 8)));
  let p = PRELUDE;
  for (const h of hparts) {
    out.set(h, p);
    p += h.length;
  }
  out.set(body, p);
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)));
  return out;
}

/** A Bedrock stream event (`:message-type: event`) with a JSON payload. */
export function encodeBedrockEvent(eventType: string, payload: unknown): Uint8Array {
  return encodeEventStreamMessage(
    { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
    JSON.stringify(payload),
  );
}

/** A Bedrock stream exception (`:message-type: exception`), e.g. `throttlingException`. */
export function encodeBedrockException(exceptionType: string, message: string): Uint8Array {
  return encodeEventStreamMessage(
    { ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' },
    JSON.stringify({ message }),
  );
}

/** Event name a GuardedEventStreamDecoder emits for bytes it could not decode (never a Bedrock event name). */
export const DECODE_ERROR = ':decode-error';

/**
 * The decoder the bedrock adapter hands to the proxy: a decoding failure does not throw out of `push` (the proxy
 * calls it from a socket `data` listener, where a throw would escape); it becomes one `DECODE_ERROR` event whose
 * data is the message, which the Bedrock stream translators throw as upstream_bad_response from `event()` (where
 * the proxy fails the stream cleanly). Nothing is decoded after it.
 */
export class GuardedEventStreamDecoder implements StreamDecoder {
  private readonly inner = new EventStreamDecoder();
  private failed = false;

  push(chunk: Uint8Array): SseEvent[] {
    if (this.failed) return [];
    try {
      return this.inner.push(chunk);
    } catch (err) {
      this.failed = true;
      const message = err instanceof GatewayError ? err.message : 'upstream sent a malformed event stream';
      return [{ event: DECODE_ERROR, data: message }];
    }
  }

  end(): SseEvent[] {
    return [];
  }

  get pending(): boolean {
    return !this.failed && this.inner.pending;
  }
}

/**
 * Test helpers for the Bedrock translators (not used at runtime): cassettes whose streams are stored as event-stream
 * frames `{headers, payload}` (see test/fixtures/cassettes/bedrock/README.md), encoded to the binary framing here
 * and replayed through the real decoder in any chunk size.
 */

import { EventStreamDecoder, encodeEventStreamMessage } from '../../dataplane/src/providers/bedrock/eventstream.js';
import type { StreamTranslator } from '../../dataplane/src/providers/types.js';
import type { SseEvent } from '../../dataplane/src/sse/sse.js';
import { type Cassette, cassette } from './cassettes.js';

export interface Frame {
  headers: Record<string, string>;
  /** A JSON value (serialized) or raw text. */
  payload: unknown;
}

export type BedrockCassette = Cassette & { eventstream?: Frame[] };

export function bedrockCassette(name: string): BedrockCassette {
  return cassette(`bedrock/${name}`) as BedrockCassette;
}

/** Encodes frames into the event-stream bytes Bedrock would send. */
export function encodeFrames(frames: Frame[]): Uint8Array {
  const parts = frames.map((f) =>
    encodeEventStreamMessage(f.headers, typeof f.payload === 'string' ? f.payload : JSON.stringify(f.payload)),
  );
  return new Uint8Array(Buffer.concat(parts));
}

/** Feeds the bytes through the decoder in chunks of `size` and the events through the translator. */
export function replayBinary(bytes: Uint8Array, t: StreamTranslator, size: number): SseEvent[] {
  const d = new EventStreamDecoder();
  const out: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += size)
    for (const ev of d.push(bytes.subarray(i, i + size))) out.push(...t.event(ev));
  for (const ev of d.end()) out.push(...t.event(ev));
  out.push(...t.end());
  return out;
}

import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { GatewayError } from '../../errors.js';
import { bedrockToAnthropic } from './bedrock-to-anthropic.js';
import { bedrockToOpenAi } from './bedrock-to-openai.js';
import {
  crc32,
  DECODE_ERROR,
  EventStreamDecoder,
  encodeBedrockEvent,
  encodeBedrockException,
  encodeEventStreamMessage,
  GuardedEventStreamDecoder,
} from './eventstream.js';

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const STREAM = concat([
  encodeBedrockEvent('messageStart', { role: 'assistant', p: 'abc' }),
  encodeBedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Grüße 👋' } }),
  encodeBedrockEvent('messageStop', { stopReason: 'end_turn' }),
  encodeBedrockException('throttlingException', 'Too many tokens'),
]);

function decodeAll(bytes: Uint8Array, size: number) {
  const d = new EventStreamDecoder();
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...d.push(bytes.subarray(i, i + size)));
  return { events: out, pending: d.pending, end: d.end() };
}

describe('EventStreamDecoder', () => {
  it('decodes the same events for every chunk size (1 byte … whole)', () => {
    const whole = decodeAll(STREAM, STREAM.length);
    expect(whole.events).toEqual([
      { event: 'messageStart', data: '{"role":"assistant","p":"abc"}' },
      { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"text":"Grüße 👋"}}' },
      { event: 'messageStop', data: '{"stopReason":"end_turn"}' },
      { event: 'throttlingException', data: '{"message":"Too many tokens"}' },
    ]);
    expect(whole.pending).toBe(false);
    expect(whole.end).toEqual([]);
    for (const size of [1, 2, 3, 7, 11, 13, 64, 100]) expect(decodeAll(STREAM, size).events).toEqual(whole.events);
  });

  it('reports a truncated message as pending (the proxy calls that a cut stream)', () => {
    const cut = STREAM.subarray(0, STREAM.length - 5);
    const r = decodeAll(cut, 9);
    expect(r.events).toHaveLength(3);
    expect(r.pending).toBe(true);
  });

  it('maps :message-type error to an error event', () => {
    const d = new EventStreamDecoder();
    const msg = encodeEventStreamMessage(
      { ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'boom' },
      '',
    );
    expect(d.push(msg)).toEqual([{ event: 'error', data: '{"code":"InternalFailure","message":"boom"}' }]);
  });

  it('a flipped payload byte is a message CRC mismatch (upstream_bad_response)', () => {
    const bad = new Uint8Array(STREAM);
    bad[40] = bad[40]! ^ 0xff;
    const d = new EventStreamDecoder();
    expect(() => d.push(bad)).toThrow(/CRC mismatch/);
    try {
      new EventStreamDecoder().push(bad);
    } catch (e) {
      expect(e).toBeInstanceOf(GatewayError);
      expect((e as GatewayError).code).toBe('upstream_bad_response');
    }
  });

  it('garbage (SSE text, a JSON body) fails at the prelude CRC', () => {
    expect(() => new EventStreamDecoder().push(new TextEncoder().encode('data: {"a":1}\n\n'))).toThrow(
      /prelude CRC mismatch/,
    );
  });

  it('an impossible length with a valid prelude CRC is rejected', () => {
    const m = new Uint8Array(encodeEventStreamMessage({}, ''));
    const v = new DataView(m.buffer);
    v.setUint32(0, 8); // shorter than a message can be
    v.setUint32(8, zlibCrc32(m.subarray(0, 8)));
    expect(() => new EventStreamDecoder().push(m)).toThrow(/impossible message length/);
  });

  it('a message without :event-type is malformed', () => {
    expect(() => new EventStreamDecoder().push(encodeEventStreamMessage({ ':message-type': 'event' }, '{}'))).toThrow(
      /no :event-type/,
    );
  });

  it('skips non-string header types', () => {
    // name "n", type 4 (int32), value 42; then a string header.
    const intHeader = new Uint8Array([1, 0x6e, 4, 0, 0, 0, 42]);
    const base = encodeEventStreamMessage({ ':event-type': 'x' }, '{}');
    const hlen = new DataView(base.buffer, base.byteOffset).getUint32(4);
    const headers = concat([intHeader, base.subarray(12, 12 + hlen)]);
    const payload = new TextEncoder().encode('{}');
    const total = 12 + headers.length + payload.length + 4;
    const m = new Uint8Array(total);
    const v = new DataView(m.buffer);
    v.setUint32(0, total);
    v.setUint32(4, headers.length);
    v.setUint32(8, zlibCrc32(m.subarray(0, 8)));
    m.set(headers, 12);
    m.set(payload, 12 + headers.length);
    v.setUint32(total - 4, zlibCrc32(m.subarray(0, total - 4)));
    expect(new EventStreamDecoder().push(m)).toEqual([{ event: 'x', data: '{}' }]);
  });

  it('the CRC32 the codec uses is IEEE 802.3 (node:zlib)', () => {
    for (const s of ['', 'a', 'The quick brown fox jumps over the lazy dog', '\u00ff\u0000x'.repeat(50)]) {
      const b = new TextEncoder().encode(s);
      expect(crc32(b)).toBe(zlibCrc32(b));
    }
    expect(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });
});

describe('GuardedEventStreamDecoder', () => {
  it('turns a decoding failure into one DECODE_ERROR event, then decodes nothing more', () => {
    const d = new GuardedEventStreamDecoder();
    const good = encodeBedrockEvent('messageStart', { role: 'assistant' });
    expect(d.push(good)).toEqual([{ event: 'messageStart', data: '{"role":"assistant"}' }]);
    const bad = new Uint8Array(good);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    expect(d.push(bad)).toEqual([
      { event: DECODE_ERROR, data: 'upstream sent a malformed event stream: message CRC mismatch' },
    ]);
    expect(d.push(good)).toEqual([]);
    expect(d.pending).toBe(false);
  });

  it('the stream translators throw it as upstream_bad_response', () => {
    for (const tr of [bedrockToOpenAi, bedrockToAnthropic]) {
      const t = tr.stream({ clientWantsUsage: false, clientModel: 'm' });
      expect(() => t.event({ event: DECODE_ERROR, data: 'upstream sent a malformed event stream: x' })).toThrow(
        expect.objectContaining({
          code: 'upstream_bad_response',
          message: 'upstream sent a malformed event stream: x',
        }),
      );
    }
  });
});

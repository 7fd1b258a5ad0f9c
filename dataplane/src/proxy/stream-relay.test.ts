/** docs/routing.md "Streams", one row per rule: what the relay makes of each kind of upstream stream. */
import { describe, expect, it } from '@jest/globals';
import { translatorFor } from '../providers/index.js';
import { SseParser } from '../sse/sse.js';
import { StreamFault, StreamRelay } from './stream-relay.js';

const relay = () =>
  new StreamRelay(
    translatorFor('openai', 'openai', 'chat').stream({ clientWantsUsage: false, clientModel: 'gpt-4o', now: 0 }),
    new SseParser(),
  );
const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const bytes = (s: string) => Buffer.from(s);
const errorEvent = `data: ${JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })}\n\n`;

describe('the stream relay', () => {
  it('translates and hands back each chunk as it arrives (no buffering)', () => {
    const r = relay();
    expect(r.push(bytes(chunk('one ')), false)).toContain('"content":"one "');
    expect(r.push(bytes(chunk('two')), true)).toContain('"content":"two"');
    // Half an event: nothing yet, the rest completes it.
    const half = chunk('three');
    expect(r.push(bytes(half.slice(0, 20)), true)).toBe('');
    expect(r.push(bytes(half.slice(20)), true)).toContain('"content":"three"');
    expect(r.push(bytes('data: [DONE]\n\n'), true)).toBe('data: [DONE]\n\n');
    expect(r.flush(true)).toBe('');
    expect(r.close()).toBe('');
  });

  const faults: Array<[string, (r: StreamRelay) => unknown, string, string]> = [
    [
      'an upstream error event before the first byte is a failed try (retried by its meaning: 5xx)',
      (r) => r.push(bytes(errorEvent), false),
      'server_error',
      'overloaded',
    ],
    [
      'an invalid event is a bad response',
      (r) => r.push(bytes('data: {not json\n\n'), true),
      'bad_response',
      'invalid JSON',
    ],
    [
      'a stream that ends before the provider’s final event is truncated',
      (r) => {
        r.push(bytes(chunk('one')), true);
        r.flush(true);
        return r.close();
      },
      'bad_response',
      'ended before its final event',
    ],
    [
      'a cut in the middle of an event is a truncation too',
      (r) => {
        r.push(bytes(chunk('one').slice(0, 30)), true);
        return r.flush(true);
      },
      'bad_response',
      'ended before its final event',
    ],
  ];
  it.each(faults)('%s', (_rule, run, kind, message) => {
    const out = run(relay());
    expect(out).toBeInstanceOf(StreamFault);
    expect((out as StreamFault).kind).toBe(kind);
    expect((out as StreamFault).error.message).toContain(message);
  });

  it('an upstream error event after the first byte is relayed to the client as an event', () => {
    const r = relay();
    r.push(bytes(chunk('one ')), false);
    const out = r.push(bytes(errorEvent), true);
    expect(typeof out).toBe('string');
    expect(out).toContain('overloaded');
    expect(r.translator.error?.message).toBe('overloaded');
  });

  it('text translated before an invalid event in the same chunk is kept, to be written before the error event', () => {
    const out = relay().push(bytes(`${chunk('one ')}data: {not json\n\n`), true);
    expect((out as StreamFault).pending).toContain('"content":"one "');
  });
});

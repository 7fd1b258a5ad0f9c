/** The capture seam's implementation over the canonical answer (ADR 0073); the seam on the real call: test/dataplane. */
import type { Usage } from '../providers/types.js';
import type { AnswerSource } from '../proxy/types.js';
import { canonicalSink } from './canonical-sink.js';
import type { CanonicalAnswer } from './types.js';

const USAGE: Usage = {
  inputTokens: 5,
  outputTokens: 2,
  cachedInputTokens: 0,
  cacheCreationTokens: 0,
  reasoningTokens: 0,
  estimated: false,
};
const FROM: AnswerSource = { provider: 'ai/p', upstreamModel: 'up' };

function recording() {
  const stored: [CanonicalAnswer | undefined, AnswerSource][] = [];
  return { stored, store: (a: CanonicalAnswer | undefined, f: AnswerSource) => stored.push([a, f]) };
}

const body = (finish: string) => ({
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: finish }],
});

describe('canonicalSink', () => {
  it('a whole answer: captured in the client format and handed to the store with who made it', () => {
    const r = recording();
    canonicalSink('openai', r.store).answered(body('stop'), USAGE, 'm', FROM);
    expect(r.stored).toHaveLength(1);
    expect(r.stored[0]?.[0]).toMatchObject({
      stop: 'stop',
      usage: USAGE,
      content: { blocks: [{ type: 'text', text: 'hi' }] },
    });
    expect(r.stored[0]?.[1]).toBe(FROM);
  });

  it('a stream: each try gets its own capture; the one that ended is stored', () => {
    const r = recording();
    const sink = canonicalSink('anthropic', r.store);
    const first = sink.stream();
    first.event({ event: 'message_start', data: '{"type":"message_start","message":{"model":"stale","content":[]}}' });
    const second = sink.stream();
    expect(second).not.toBe(first);
    for (const [event, data] of [
      ['message_start', { type: 'message_start', message: { model: 'c', content: [] } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'yo' } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null } }],
      ['message_stop', { type: 'message_stop' }],
    ] as const)
      second.event({ event, data: JSON.stringify(data) });
    sink.streamed(second, USAGE, 'c-2025', FROM);
    expect(r.stored[0]?.[0]).toMatchObject({
      responseModel: 'c-2025',
      content: { model: 'c', blocks: [{ text: 'yo' }] },
    });
  });

  it('answers cut by the token limit reach the store (it applies includeTruncated) unless told otherwise', () => {
    const r = recording();
    canonicalSink('openai', r.store).answered(body('length'), USAGE, 'm', FROM);
    canonicalSink('openai', r.store, { storeLength: false }).answered(body('length'), USAGE, 'm', FROM);
    expect(r.stored.map(([a]) => a?.stop)).toEqual(['length', undefined]);
  });

  it('what cannot be captured reaches the store as undefined', () => {
    const r = recording();
    canonicalSink('openai', r.store).answered({ choices: [] }, USAGE, 'm', FROM);
    expect(r.stored).toEqual([[undefined, FROM]]);
  });
});

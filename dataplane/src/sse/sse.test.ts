import { formatSse, SseParser } from './sse.js';

describe('SseParser', () => {
  const raw = 'event: message_start\ndata: {"a":1}\n\n: ping comment\n\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n';

  it('parses events regardless of how the bytes are chunked', () => {
    const whole = new SseParser().push(raw);
    for (let size = 1; size < raw.length; size += 7) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < raw.length; i += size) got.push(...p.push(new TextEncoder().encode(raw.slice(i, i + size))));
      expect(got).toEqual(whole);
    }
    expect(whole).toEqual([{ event: 'message_start', data: '{"a":1}' }, { data: 'line1\nline2' }, { data: '[DONE]' }]);
  });

  it('handles CRLF line endings and reports a cut-off event as pending', () => {
    const p = new SseParser();
    expect(p.push('data: x\r\n\r\ndata: partial')).toEqual([{ data: 'x' }]);
    expect(p.pending).toBe(true);
    expect(p.end()).toEqual([{ data: 'partial' }]);
  });

  it('round-trips through formatSse', () => {
    const events = [{ event: 'content_block_delta', data: '{"x":"y"}' }, { data: 'a\nb' }];
    expect(new SseParser().push(events.map(formatSse).join(''))).toEqual(events);
  });
});

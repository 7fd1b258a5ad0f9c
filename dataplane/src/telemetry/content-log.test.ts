import { capUtf8, contentFields, requestContent } from './content-log.js';

describe('requestContent', () => {
  it('keeps the prompt fields only: no model, parameters or tools', () => {
    const body = {
      model: 'gpt-4o',
      temperature: 0.2,
      tools: [{ type: 'function', function: { name: 'f' } }],
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi' }],
    };
    expect(JSON.parse(requestContent(body))).toEqual({
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('takes embeddings input', () => {
    expect(requestContent({ model: 'e', input: ['a', 'b'] })).toBe('{"input":["a","b"]}');
  });
});

describe('capUtf8', () => {
  it('leaves a text within the cap alone', () => {
    expect(capUtf8('hello', 5)).toEqual({ text: 'hello', truncated: false });
    expect(capUtf8('héllo', 6)).toEqual({ text: 'héllo', truncated: false });
  });

  it('cuts at the byte cap and says so', () => {
    expect(capUtf8('abcdefgh', 3)).toEqual({ text: 'abc', truncated: true });
  });

  it('never cuts inside a character', () => {
    // "é" is 2 bytes, "€" 3, "😀" 4 (a surrogate pair in UTF-16).
    expect(capUtf8('aé', 2)).toEqual({ text: 'a', truncated: true });
    expect(capUtf8('a€b', 3)).toEqual({ text: 'a', truncated: true });
    expect(capUtf8('a€b', 4)).toEqual({ text: 'a€', truncated: true });
    expect(capUtf8('😀😀', 7)).toEqual({ text: '😀', truncated: true });
    expect(Buffer.byteLength(capUtf8('€'.repeat(1000), 100).text)).toBeLessThanOrEqual(100);
  });
});

describe('contentFields', () => {
  it('marks each truncated part', () => {
    const f = contentFields({ maxBytes: 20 }, { messages: [{ role: 'user', content: 'x'.repeat(100) }] }, 'short');
    expect(f.request).toHaveLength(20);
    expect(f.request_truncated).toBe(true);
    expect(f.completion).toBe('short');
    expect(f.completion_truncated).toBeUndefined();
  });

  it('has no request field before the body was parsed, no completion when there was none', () => {
    expect(contentFields({ maxBytes: 100 }, undefined, undefined)).toEqual({});
  });
});

import { describe, expect, it } from '@jest/globals';
import { loopbackOrigin } from './create.js';

describe('loopbackOrigin: where the semantic cache sends its embeddings', () => {
  it('a wildcard listener is reached on loopback', () => {
    expect(loopbackOrigin(undefined, 8080)).toBe('http://127.0.0.1:8080');
    expect(loopbackOrigin('0.0.0.0', 8080)).toBe('http://127.0.0.1:8080');
    expect(loopbackOrigin('::', 9)).toBe('http://127.0.0.1:9');
  });

  it('a listener on one address is reached on that address (IPv6 in brackets)', () => {
    expect(loopbackOrigin('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080');
    expect(loopbackOrigin('10.0.0.7', 80)).toBe('http://10.0.0.7:80');
    expect(loopbackOrigin('::1', 8080)).toBe('http://[::1]:8080');
  });
});

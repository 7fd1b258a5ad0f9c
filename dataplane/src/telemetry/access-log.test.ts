import { jest } from '@jest/globals';
import { stdoutAccessLog } from './access-log.js';

describe('stdout access log', () => {
  test('lines of one event-loop turn go out in one write, one JSON object per line, undefined fields dropped', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      stdoutAccessLog({ type: 'access', status: 200, route: 'ai/a', error: undefined });
      stdoutAccessLog({ type: 'access', status: 429, route: 'ai/b' });
      stdoutAccessLog({ type: 'access', status: 200, key: 'ai/k' });
      expect(writes).toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(writes).toHaveLength(1);
      const lines = writes[0]!.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        { type: 'access', status: 200, route: 'ai/a' },
        { type: 'access', status: 429, route: 'ai/b' },
        { type: 'access', status: 200, key: 'ai/k' },
      ]);
      stdoutAccessLog({ type: 'access', status: 500 });
      await new Promise((r) => setImmediate(r));
      expect(writes).toHaveLength(2);
    } finally {
      spy.mockRestore();
    }
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBootSnapshot } from './dataplane.js';

describe('readBootSnapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-boot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is undefined when the file does not exist', () => {
    expect(readBootSnapshot(join(dir, 'missing.json'))).toBeUndefined();
  });

  it('never quotes a broken snapshot (it holds provider credentials) in its error', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, 'sk-live-SECRET-credential {"version":1}');
    let message = '';
    try {
      readBootSnapshot(path);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`boot snapshot ${path} is not valid JSON`);
    expect(message).not.toContain('SECRET');
  });

  it('rejects JSON that is not a GatewayConfig without echoing it', () => {
    const path = join(dir, 'wrong.json');
    writeFileSync(path, JSON.stringify({ version: 1, providers: [{ credential: 'sk-live-SECRET' }] }));
    expect(() => readBootSnapshot(path)).toThrow(`boot snapshot ${path} is not a valid GatewayConfig`);
  });
});

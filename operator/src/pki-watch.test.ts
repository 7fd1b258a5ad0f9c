import { createPki, reissueServing, servingUsable } from './certs.js';
import { decidePki } from './pki-watch.js';

const HOSTS = ['tollgate-operator', 'localhost', '127.0.0.1'];

describe('decidePki', () => {
  it('adopts a different valid PKI, repairs a missing or broken one only as leader', async () => {
    const a = await createPki(HOSTS);
    const rotated = await reissueServing(a, HOSTS);
    expect(decidePki(a, a, HOSTS, true)).toEqual({ type: 'none' });
    expect(decidePki(a, rotated, HOSTS, false)).toEqual({ type: 'adopt', pki: rotated });
    expect(decidePki(a, undefined, HOSTS, true)).toEqual({ type: 'restore' });
    expect(decidePki(a, undefined, HOSTS, false)).toEqual({ type: 'none' });
    const broken = { ...a, cert: 'garbage' };
    expect(decidePki(a, broken, HOSTS, true)).toEqual({ type: 'reissue', ca: { caCert: a.caCert, caKey: a.caKey } });
    expect(decidePki(a, broken, HOSTS, false)).toEqual({ type: 'none' });
    // A certificate that no longer covers the names (or expires soon) is reissued even when unchanged.
    expect(decidePki(a, a, [...HOSTS, 'new-name'], true).type).toBe('reissue');
  });

  it('servingUsable rejects a key that does not match the certificate', async () => {
    const a = await createPki(HOSTS);
    const b = await reissueServing(a, HOSTS);
    expect(servingUsable(a, HOSTS)).toBe(true);
    expect(servingUsable({ ...a, key: b.key }, HOSTS)).toBe(false);
    expect(servingUsable(a, HOSTS, 400 * 86_400_000)).toBe(false); // valid 1 year: "expires within 400 days"
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

describe('charts/tollgate/crds', () => {
  it('is an exact copy of crds/ (cp crds/*.yaml charts/tollgate/crds/ after npm run gen:crds)', () => {
    const want = readdirSync(join(root, 'crds'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const have = readdirSync(join(root, 'charts/tollgate/crds'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(have).toEqual(want);
    for (const f of want) {
      expect(readFileSync(join(root, 'charts/tollgate/crds', f), 'utf8')).toBe(
        readFileSync(join(root, 'crds', f), 'utf8'),
      );
    }
  });
});

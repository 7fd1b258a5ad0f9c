/**
 * Tests and their helpers stay out of the production build and the image: tsconfig.build.json compiles
 * no test/ path, the Dockerfile copies none, no production source imports one, and the benchmark has its
 * own tsconfig (npm run build:bench).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(path));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('production build and image contents', () => {
  test('tsconfig.build.json compiles no test/ path; tsconfig.bench.json adds the bench and its helpers', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    expect(build.include.filter((p) => p.startsWith('test/'))).toEqual([]);
    const bench = JSON.parse(read('tsconfig.bench.json')) as { include: string[] };
    expect(bench.include).toEqual(expect.arrayContaining(['test/bench/**/*.ts', 'test/support/**/*.ts']));
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.bench).toContain('build:bench');
    expect(pkg.scripts['build:bench']).toBe('tsc -p tsconfig.bench.json');
  });

  test('the Dockerfile copies no test/ path and .dockerignore lets none in', () => {
    const copies = read('Dockerfile')
      .split('\n')
      .filter((l) => /^COPY\s/.test(l));
    expect(copies.length).toBeGreaterThan(3);
    expect(copies.filter((l) => /\stest\//.test(l))).toEqual([]);
    const ignore = read('.dockerignore').split('\n');
    expect(ignore).toContain('test');
    expect(ignore.filter((l) => l.startsWith('!test'))).toEqual([]);
  });

  test('no production source imports from test/', () => {
    const files = ['bin', 'contract', 'dataplane/src', 'operator/src', 'scripts'].flatMap(sources);
    expect(files.length).toBeGreaterThan(50);
    const offending = files.filter(
      (f) => /from\s+'(?:\.\.\/)+test\//.test(read(f)) || /\/test\/support\//.test(read(f)),
    );
    expect(offending).toEqual([]);
  });
});

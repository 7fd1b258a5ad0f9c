/**
 * The layering rule of ADR 0046, checked on the import graph: the contract, the config translation and the
 * operator load the provider folders' config halves (config.ts) and never an adapter, a translator or a
 * descriptor. Walks the runtime imports (`import type` and type-only re-exports are erased, so skipped) of the
 * real sources with the TypeScript parser.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { PROVIDER_TYPES } from '../dataplane/src/providers/configs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Relative module specifiers a file imports at run time. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        clause.name === undefined &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (onlyTypes) continue;
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      if (node.isTypeOnly) continue;
      const clause = node.exportClause;
      if (clause !== undefined && ts.isNamedExports(clause) && clause.elements.every((e) => e.isTypeOnly)) continue;
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out.filter((s) => s.startsWith('.'));
}

/** Every repository file reachable from `entry` through runtime imports, as paths relative to the root. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [join(root, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    const rel = relative(root, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const spec of runtimeImports(file)) {
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (!existsSync(target)) throw new Error(`${rel}: cannot resolve ${spec}`);
      queue.push(target);
    }
  }
  return seen;
}

/** The request-path half of a provider folder: adapters, translators (`*-to-*.ts`), descriptors, the registry. */
function isRequestPathProviderModule(rel: string): boolean {
  if (!rel.startsWith('dataplane/src/providers/')) return false;
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  return (
    base === 'adapter.ts' ||
    base === 'descriptor.ts' ||
    rel === 'dataplane/src/providers/descriptors.ts' ||
    rel === 'dataplane/src/providers/index.ts' ||
    /-to-[a-z-]+\.ts$/.test(base)
  );
}

const CONFIG_SIDE = [
  'contract/gateway-config.ts',
  'dataplane/src/config/translate.ts',
  'dataplane/src/config/resources.ts',
  'operator/src/operator.ts',
  'scripts/gen-crds.ts',
];

describe('layering: contract and config never load the request path of a provider (ADR 0046)', () => {
  it.each(CONFIG_SIDE)('%s loads no adapter, translator or descriptor', (entry) => {
    const loaded = [...closure(entry)];
    expect(loaded.filter(isRequestPathProviderModule)).toEqual([]);
    // ...while it does load every provider type's config half (the walk is not vacuous).
    expect(loaded.filter((f) => /^dataplane\/src\/providers\/[a-z-]+\/config\.ts$/.test(f))).toHaveLength(
      PROVIDER_TYPES.length,
    );
  });

  it('the walk does see adapters where they are loaded: the request path registry reaches every one', () => {
    const loaded = [...closure('dataplane/src/providers/index.ts')];
    expect(loaded.filter((f) => f.endsWith('/adapter.ts')).length).toBeGreaterThanOrEqual(PROVIDER_TYPES.length);
    expect(loaded.filter((f) => f.endsWith('/descriptor.ts'))).toHaveLength(PROVIDER_TYPES.length);
  });

  it('type-only imports are not followed (they are erased at run time)', () => {
    // types.ts imports type-config.ts for a type only; contract/provider.ts is a zod leaf.
    expect([...closure('contract/provider.ts')]).toEqual(['contract/provider.ts']);
    expect(runtimeImports(join(root, 'dataplane/src/providers/type-config.ts'))).toEqual([]);
  });
});

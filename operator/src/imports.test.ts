/**
 * The operator's boundary with the data plane: operator/src (production files) imports from
 * dataplane/src only the modules listed here, each for a stated reason; contract/ imports neither side.
 * Everything the two processes must agree on at run time lives in contract/ (GatewayConfig, the Redis
 * key layout, the Redis URL, the Prometheus text encoder), so the operator never builds a data-plane
 * service, store or CLI helper.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** dataplane/src modules the operator may import, and why. */
const ALLOWED: Record<string, string> = {
  'dataplane/src/config/translate.ts':
    'the pure CRD → GatewayConfig translation, one code path shared with the file loader of `tollgate run`',
  'dataplane/src/config/resources.ts': 'the CRD kinds, API group and version the translation reads',
  'dataplane/src/config/duration.ts': 'the API duration syntax (15s), which operator flags share with the CRDs',
  'dataplane/src/log.ts': 'one structured log format for both processes',
  'dataplane/src/config/last-good.ts':
    'the per-resource last-good rule (ADR 0055), one code path shared with the file loader of `tollgate run`',
};

/**
 * What contract/ may import outside itself: the zod-only halves of the provider folders (ADR 0046), from which
 * the provider part of GatewayConfig is built. scripts/layering.test.ts keeps them free of adapters and
 * translators; they import only each other, zod and contract/.
 */
const CONFIG_HALF_LEAVES = new Set([
  'dataplane/src/errors.ts', // the coded errors a credential check raises
  'dataplane/src/providers/common/json.ts', // JSON reading helpers of the credential checks
  'dataplane/src/providers/common/upstream-error.ts', // a token endpoint's refusal, mapped in its one place
  'dataplane/src/providers/bedrock/sigv4.ts', // the credential's key shapes
]);

function contractMayImport(target: string): boolean {
  return (
    target === 'dataplane/src/providers/configs.ts' ||
    target === 'dataplane/src/providers/type-config.ts' ||
    /^dataplane\/src\/providers\/[a-z-]+\/(config|credential|service-account)\.ts$/.test(target) ||
    CONFIG_HALF_LEAVES.has(target)
  );
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(path));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/**
 * Relative specifiers of every static import/export-from and dynamic import(), resolved to repo paths
 * (`runtimeOnly`: without `import type` / `export type`, which are gone at run time).
 */
function importsOf(file: string, runtimeOnly = false): string[] {
  let text = readFileSync(join(ROOT, file), 'utf8');
  if (runtimeOnly) text = text.replace(/^\s*(?:import|export)\s+type\b[^;]*;/gm, '');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s*'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s*'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1] as string);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)).replace(/\.js$/, '.ts'));
}

describe('module boundaries', () => {
  const operatorFiles = sources('operator/src');

  it('finds the operator sources and their imports (the scan itself works)', () => {
    expect(operatorFiles).toContain('operator/src/controller.ts');
    expect(importsOf('operator/src/quota-usage.ts')).toContain('contract/shared-state.ts');
  });

  it('operator/src imports from dataplane/src only the allowed modules', () => {
    const offending: string[] = [];
    for (const f of operatorFiles) {
      for (const target of importsOf(f)) {
        if (target.startsWith('dataplane/') && !(target in ALLOWED)) offending.push(`${f} → ${target}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("contract/ imports neither the data plane nor the operator, but for the providers' config halves", () => {
    const offending: string[] = [];
    const reached = new Set<string>();
    const queue = sources('contract');
    // Follow what the provider config halves load at run time too: only each other, the leaves above and contract/.
    while (queue.length > 0) {
      const f = queue.pop() as string;
      if (reached.has(f)) continue;
      reached.add(f);
      for (const target of importsOf(f, true)) {
        if (target.startsWith('contract/')) continue;
        if (contractMayImport(target)) queue.push(target);
        else offending.push(`${f} → ${target}`);
      }
    }
    expect(offending).toEqual([]);
    expect(reached).toContain('dataplane/src/providers/bedrock/config.ts');
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { LIMITS } from '../dataplane/src/config/resources.js';
import { generateCrds, type JsonSchema, toStructural } from './gen-crds.js';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'crds');
const chartCrdDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'charts', 'tollgate', 'crds');
const generated = generateCrds();

describe('CRDs', () => {
  it.each(generated.map((g) => [g.file, g.yaml]))(
    'committed crds/%s equals the generator output (npm run gen:crds)',
    (file, yaml) => {
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(join(crdDir, file), yaml);
      expect(readFileSync(join(crdDir, file), 'utf8')).toBe(yaml);
    },
  );

  // helm installs charts/tollgate/crds/ before the chart's templates: the chart must ship the same files.
  it.each(generated.map((g) => [g.file, g.yaml]))(
    'the chart ships the same charts/tollgate/crds/%s (npm run gen:crds writes both)',
    (file, yaml) => {
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(join(chartCrdDir, file), yaml);
      expect(readFileSync(join(chartCrdDir, file), 'utf8')).toBe(yaml);
    },
  );

  // kubectl and the API server read YAML 1.1, where an unquoted `on`, `yes` or `off` is a boolean: the
  // served schema would get a field named `true`. The files must mean the same under 1.1 and 1.2.
  it.each(generated.map((g) => [g.file, g.yaml]))('%s reads the same under YAML 1.1 and 1.2', (_file, yaml) => {
    expect(parse(yaml, { version: '1.1' })).toEqual(parse(yaml));
  });

  /** Walks every schema node under spec/status with its path. */
  function walk(node: JsonSchema, path: string, visit: (n: JsonSchema, p: string) => void): void {
    visit(node, path);
    for (const [k, v] of Object.entries((node.properties as Record<string, JsonSchema>) ?? {}))
      walk(v, `${path}.${k}`, visit);
    if (node.items) walk(node.items as JsonSchema, `${path}[]`, visit);
    if (node.additionalProperties && typeof node.additionalProperties === 'object')
      walk(node.additionalProperties as JsonSchema, `${path}.*`, visit);
  }

  it.each(generated.map((g) => [g.file, g.yaml]))(
    '%s is a structural schema with a description on every field',
    (_f, yaml) => {
      const crd = parse(yaml) as JsonSchema;
      const version = (crd.spec as { versions: JsonSchema[] }).versions[0]!;
      const root = (version.schema as { openAPIV3Schema: JsonSchema }).openAPIV3Schema;
      const problems: string[] = [];
      for (const top of ['spec', 'status']) {
        walk((root.properties as Record<string, JsonSchema>)[top]!, top, (n, p) => {
          if (typeof n.description !== 'string' || n.description === '') problems.push(`${p}: no description`);
          if (typeof n.type !== 'string') problems.push(`${p}: no type`);
          for (const bad of ['$schema', 'anyOf', 'oneOf', 'allOf', '$ref', 'propertyNames'])
            if (bad in n) problems.push(`${p}: has ${bad}`);
          if (n.additionalProperties === false) problems.push(`${p}: additionalProperties false`);
          if (typeof n.exclusiveMinimum === 'number') problems.push(`${p}: numeric exclusiveMinimum`);
        });
      }
      expect(problems).toEqual([]);
      expect(version.subresources).toEqual({ status: {} });
    },
  );

  it('carries the CEL rules, defaults, enums and printer columns the API asks for', () => {
    const byFile = Object.fromEntries(generated.map((g) => [g.file, g.yaml]));
    const provider = byFile['llmproviders.tollgate.dev.yaml']!;
    expect(provider).toContain('message: endpoint and serviceRef are mutually exclusive');
    expect(provider).toContain('jsonPath: .status.conditions[?(@.type=="Programmed")].status');
    expect(provider).toMatch(/shortNames:\n\s+- llmp/);
    expect(provider).toMatch(/categories:\n\s+- tollgate/);
    expect(provider).toMatch(/default: 5s/);
    const quota = byFile['quotapolicies.tollgate.dev.yaml']!;
    expect(quota).toContain('message: a limit needs exactly one of requests, tokens or costUSD');
    expect(quota).toContain('a * may only stand at the end of a model name');
    expect(quota).toMatch(/shortNames:\n\s+- qp/);
    const route = byFile['llmroutes.tollgate.dev.yaml']!;
    expect(route).toContain('jsonPath: .spec.backends[*].provider');
    expect(route).toMatch(/shortNames:\n\s+- llmr/);
    expect(route).toMatch(/- "?5xx"?\n/);
  });

  it('takes its size caps from the zod schemas (LIMITS), so tollgate run rejects what the API server rejects', () => {
    const specOf = (file: string): JsonSchema => {
      const crd = parse(generated.find((g) => g.file === file)!.yaml) as JsonSchema;
      const root = (crd.spec as { versions: Array<{ schema: { openAPIV3Schema: JsonSchema } }> }).versions[0]!.schema
        .openAPIV3Schema;
      return (root.properties as Record<string, JsonSchema>).spec!;
    };
    const at = (node: JsonSchema, path: string): JsonSchema =>
      path.split('.').reduce<JsonSchema>((n, k) => {
        if (k === '[]') return n.items as JsonSchema;
        return (n.properties as Record<string, JsonSchema>)[k]!;
      }, node);
    const provider = specOf('llmproviders.tollgate.dev.yaml');
    const route = specOf('llmroutes.tollgate.dev.yaml');
    const quota = specOf('quotapolicies.tollgate.dev.yaml');
    expect(at(provider, 'models').maxItems).toBe(LIMITS.providerModels);
    expect(at(route, 'models').maxItems).toBe(LIMITS.routeModels);
    expect(at(route, 'models.[]').maxLength).toBe(LIMITS.modelNameLength);
    expect(at(route, 'backends').maxItems).toBe(LIMITS.routeBackends);
    expect(at(route, 'match.headers').maxItems).toBe(LIMITS.routeHeaders);
    expect(at(quota, 'models').maxItems).toBe(LIMITS.quotaModels);
    expect(at(quota, 'models.[]').maxLength).toBe(LIMITS.modelNameLength);
    expect(at(quota, 'models.[]').pattern).toBe('^[^*]*\\*?$');
    expect(at(quota, 'limits').maxItems).toBe(LIMITS.quotaLimits);
    // Every list that carries a CEL rule is bounded (else the API server refuses the CRD for its CEL cost).
    const unbounded: string[] = [];
    for (const [name, spec] of [
      ['LLMProvider', provider],
      ['LLMRoute', route],
      ['QuotaPolicy', quota],
    ] as const)
      walk(spec, name, (n, p) => {
        if (n.type === 'array' && n['x-kubernetes-validations'] !== undefined && typeof n.maxItems !== 'number')
          unbounded.push(p);
      });
    expect(unbounded).toEqual([]);
  });

  it('refuses a schema it cannot express or a field without a description', () => {
    expect(() =>
      toStructural({ type: 'object', description: 'x', properties: { a: { type: 'string' } } }, 'T'),
    ).toThrow(/T\.a: no description/);
    expect(() => toStructural({ description: 'x', anyOf: [{ type: 'string' }, { type: 'number' }] }, 'T')).toThrow(
      /anyOf cannot be expressed/,
    );
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

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

/** The JSON Schema keywords values.schema.json uses (draft-07 subset). */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  required?: string[];
  items?: Schema;
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Every violation of `schema` by `value`, as `path: reason`. */
function violations(schema: Schema, value: unknown, path = 'values'): string[] {
  const out: string[] = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!allowed.includes(t) && !(t === 'integer' && allowed.includes('number')))
      return [`${path}: ${t} is not ${allowed.join(' | ')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: ${String(value)} is not one of the enum`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value))
      out.push(`${path}: does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) out.push(`${path}: too short`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${path}: above ${schema.maximum}`);
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) out.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) out.push(...violations(sub, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${path}.${k}: not in the schema`);
    }
  }
  if (t === 'array' && schema.items)
    (value as unknown[]).forEach((v, i) => {
      out.push(...violations(schema.items!, v, `${path}[${i}]`));
    });
  return out;
}

describe('charts/tollgate/values.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(root, 'charts/tollgate/values.schema.json'), 'utf8')) as Schema;

  it('accepts the default values.yaml, every key of which it describes', () => {
    const values: unknown = parse(readFileSync(join(root, 'charts/tollgate/values.yaml'), 'utf8'));
    expect(violations(schema, values)).toEqual([]);
  });

  it('takes dataplane.logContent on, with a byte cap, and nothing else there', () => {
    expect(violations(schema, { dataplane: { logContent: { enabled: true, maxBytes: 4096 } } })).toEqual([]);
    expect(violations(schema, { dataplane: { logContent: { enabled: 'yes' } } })).toEqual([
      'values.dataplane.logContent.enabled: string is not boolean',
    ]);
    expect(violations(schema, { dataplane: { logContent: { maxBytes: 0, verbose: true } } })).toEqual([
      'values.dataplane.logContent.maxBytes: below 1',
      'values.dataplane.logContent.verbose: not in the schema',
    ]);
  });

  it('takes redis.existingSecret {name, key} and dataplane.extraEnv as EnvVar objects', () => {
    expect(
      violations(schema, {
        redis: { existingSecret: { name: 'tollgate-redis', key: 'url' } },
        dataplane: {
          extraEnv: [
            { name: 'A', value: '1' },
            { name: 'B', valueFrom: { secretKeyRef: {} } },
          ],
        },
      }),
    ).toEqual([]);
    expect(violations(schema, { redis: { existingSecret: { name: 'Bad_Name', key: '', password: 'x' } } })).toEqual([
      'values.redis.existingSecret.name: does not match ^(|[a-z0-9]([-a-z0-9.]*[a-z0-9])?)$',
      'values.redis.existingSecret.key: too short',
      'values.redis.existingSecret.password: not in the schema',
    ]);
    expect(violations(schema, { dataplane: { extraEnv: [{ value: '1' }, 'A=1'] } })).toEqual([
      'values.dataplane.extraEnv[0].name: required',
      'values.dataplane.extraEnv[1]: string is not object',
    ]);
  });
});

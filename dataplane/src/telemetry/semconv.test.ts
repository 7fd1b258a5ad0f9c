import * as stable from '@opentelemetry/semantic-conventions';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import type { Operation } from '../providers/types.js';
import * as ours from './semconv.js';

describe('semantic-convention names (copied, ADR 0051)', () => {
  test('every copied constant has the name and the value of the installed package', () => {
    const names = Object.keys(ours);
    expect(names.length).toBeGreaterThan(15);
    const upstream: Record<string, unknown> = { ...incubating, ...stable };
    const mismatches = names
      .filter((n) => upstream[n] !== (ours as Record<string, unknown>)[n])
      .map(
        (n) =>
          `${n}: ours ${JSON.stringify((ours as Record<string, unknown>)[n])}, package ${JSON.stringify(upstream[n])}`,
      );
    expect(mismatches).toEqual([]);
  });

  test('stable names come from the stable entry', () => {
    expect(stable.ATTR_ERROR_TYPE).toBe(ours.ATTR_ERROR_TYPE);
  });

  test("Tollgate's operation names are gen_ai.operation.name values", () => {
    const ops: Record<Operation, string> = {
      chat: ours.GEN_AI_OPERATION_NAME_VALUE_CHAT,
      embeddings: ours.GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
    };
    for (const [op, value] of Object.entries(ops)) expect(op).toBe(value);
  });
});

import { refundOf } from './refund.js';

describe('refundOf', () => {
  const reserve = (keys: string[], perSlot: Array<[field: string, add: string, credit: string]>) => ({
    kind: 'r' as const,
    keys,
    args: perSlot.flatMap(([field, add, credit]) => [field, '0', '100', add, '0', '60000', credit]),
  });

  it('takes back every add of an admitted reserve, and its credits only when they were granted', () => {
    const ops = [
      reserve(
        ['q:a', 'q:b'],
        [
          ['7', '1', '8'],
          ['7', '250', '2000'],
        ],
      ),
      { kind: 's' as const, keys: ['q:a'], args: ['6', '-3'] },
      reserve(['q:a'], [['7', '1', '8']]),
      reserve(['q:c'], [['9', '5', '0']]),
    ];
    // First: admitted with credits; second: refused; third: admitted without credit.
    const r = refundOf(ops, [
      [1, 1, 0, -1, 0, -1],
      [0, 0, 100, 3],
      [1, 0, 0, -1],
    ]);
    expect(r.admissions).toBe(2);
    expect(r.keys).toEqual(['q:a', 'q:a', 'q:b', 'q:b', 'q:c']);
    expect(r.args).toEqual(['7', '-1', '7', '-8', '7', '-250', '7', '-2000', '9', '-5']);
  });

  it('refunds nothing for skipped ({-1}) or refused admissions', () => {
    const r = refundOf(
      [reserve(['q:a'], [['1', '1', '0']]), reserve(['q:a'], [['1', '1', '0']])],
      [[-1], [0, 0, 5, 2]],
    );
    expect(r).toEqual({ admissions: 0, keys: [], args: [] });
  });
});

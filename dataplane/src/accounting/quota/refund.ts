/**
 * Refunds of admissions Redis made after the store had given up on them (docs/adr/0058): the script's
 * answer came too late, the request was answered without it, so what it added is taken back. Pure: the
 * operations as the store sent them and the script's answer in, a settlement out.
 */

/** A reserve operation as sent: its keys, and per slot 7 arguments (field, minField, limit, add, budget, ttl, credit). */
export interface SentOp {
  readonly kind: 'r' | 's';
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

export interface Refund {
  /** Admissions refunded. */
  readonly admissions: number;
  /** A settlement: its keys and per key (field, negative delta); empty when nothing was admitted. */
  readonly keys: string[];
  readonly args: string[];
}

/** `out`: the script's answer, one entry per reserve in order ({allowed, granted, ...}). */
export function refundOf(ops: readonly SentOp[], out: readonly unknown[]): Refund {
  const keys: string[] = [];
  const args: string[] = [];
  let admissions = 0;
  let r = 0;
  for (const op of ops) {
    if (op.kind !== 'r') continue;
    const entry = out[r++] as readonly number[] | undefined;
    if (entry?.[0] !== 1) continue;
    admissions++;
    const credited = entry[1] === 1;
    for (let i = 0; i < op.keys.length; i++) {
      const b = i * 7;
      for (const v of [op.args[b + 3]!, credited ? op.args[b + 6]! : '0'])
        if (v !== '0') {
          keys.push(op.keys[i]!);
          args.push(op.args[b]!, `-${v}`);
        }
    }
  }
  return { admissions, keys, args };
}

/**
 * Random trace and span ids (W3C Trace Context: 16 and 8 bytes, lowercase hex, never all zero), cut from
 * a pool of crypto-random bytes refilled 4 KiB at a time: one hex slice per id instead of a random call.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafe(4096);
let pos = pool.length;

function take(bytes: number): string {
  if (pos + bytes > pool.length) {
    randomFillSync(pool);
    pos = 0;
  }
  const hex = pool.toString('hex', pos, pos + bytes);
  pos += bytes;
  return hex;
}

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function newTraceId(): string {
  let id = take(16);
  while (id === ZERO_TRACE) id = take(16);
  return id;
}

export function newSpanId(): string {
  let id = take(8);
  while (id === ZERO_SPAN) id = take(8);
  return id;
}

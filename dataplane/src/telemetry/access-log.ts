/**
 * The access log: one JSON line per request on stdout. Fields: route, backend, attempts, status, tokens,
 * cost, latency, time to first token, the key's id (its Secret, never the key) and team label. Prompts
 * and completions are part of it only when content logging was turned on at start (`--log-content`,
 * see content-log.ts); never headers or the key.
 */
import { writeSync } from 'node:fs';

export type AccessRecord = Record<string, string | number | boolean | undefined>;
export type AccessLogWriter = (record: AccessRecord) => void;

/**
 * Lines of the current event-loop turn, written with one write when the turn is over. process.stdout is
 * synchronous for files and pipes on Linux: a write per request was a syscall per request on the hot path.
 */
let pending = '';
let scheduled = false;
let exitHook = false;

function flush(): void {
  scheduled = false;
  const text = pending;
  pending = '';
  if (text !== '') process.stdout.write(text);
}

/** At exit nothing asynchronous runs any more: what is still pending is written synchronously. */
function flushAtExit(): void {
  if (pending === '') return;
  try {
    writeSync(1, pending);
  } catch {
    // stdout closed: nowhere left to write
  }
  pending = '';
}

/** JSON.stringify drops undefined fields, so absent values cost nothing in the line. */
export const stdoutAccessLog: AccessLogWriter = (record) => {
  pending += `${JSON.stringify(record)}\n`;
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', flushAtExit);
  }
};

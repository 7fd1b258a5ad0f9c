/**
 * The access log: one JSON line per request on stdout. Fields: route, backend, attempts, status, tokens,
 * cost, latency, time to first token, the key's id (its Secret, never the key) and team label. Prompts
 * and completions are never part of it.
 */
export type AccessRecord = Record<string, string | number | boolean | undefined>;
export type AccessLogWriter = (record: AccessRecord) => void;

/** JSON.stringify drops undefined fields, so absent values cost nothing in the line. */
export const stdoutAccessLog: AccessLogWriter = (record) => {
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

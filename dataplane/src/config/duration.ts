/** Durations in the Kubernetes style used by the API: `500ms`, `30s`, `5m`, `1h`, `30d`, or compounds like `1h30m`. */
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const DURATION_PATTERN = DURATION_RE.source;

export function isDuration(value: string): boolean {
  return DURATION_RE.test(value);
}

/** Parses a duration into milliseconds; throws on a malformed one (callers validate with the schema first). */
export function parseDuration(value: string): number {
  if (!DURATION_RE.test(value))
    throw new Error(`malformed duration "${value}" (use forms like 500ms, 30s, 5m, 1h, 30d)`);
  let total = 0;
  for (const m of value.matchAll(PART_RE)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(total);
}

/**
 * Prometheus text exposition format 0.0.4: the one encoder behind both processes' GET /metrics (the
 * data plane's registry in dataplane/src/telemetry/registry.ts, the operator's health server). In
 * contract/ because the metric names and this format are part of what users scrape from either
 * process, and the operator imports nothing of the data plane's telemetry. Pure string building, run at
 * scrape time only (never on the request path).
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** A label value: backslash, double quote and newline escaped. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and newline escaped (quotes stay). */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `{a="1",b="2"}` from parallel name and value lists, plus an optional pre-built pair (`le="0.1"`). */
export function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabel(values[i] ?? '')}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A sample value: integers as is, floats to 15 significant digits (no binary noise), ±Inf, NaN. */
export function formatValue(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(n)) return 'NaN';
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(15)));
}

/** Appends a metric family's `# HELP` and `# TYPE` lines. */
export function pushHeader(out: string[], name: string, help: string, type: MetricType): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
}

/** Lines joined as an exposition (one trailing newline). */
export function exposition(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** One unlabelled counter or gauge. */
export interface ScalarMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  value: number;
}

/** Unlabelled counters and gauges (the operator's metrics), in the order given. */
export function renderScalars(metrics: readonly ScalarMetric[]): string {
  const out: string[] = [];
  for (const m of metrics) {
    pushHeader(out, m.name, m.help, m.type);
    out.push(`${m.name} ${formatValue(m.value)}`);
  }
  return exposition(out);
}

/** W3C Trace Context `traceparent`: parsed from the client, formatted for the upstream. */
import type { ParentContext } from './tracing/sampler.js';

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** A remote span context from a valid traceparent; undefined for anything malformed (ignored, never an error). */
export function parseTraceparent(value: string | undefined): ParentContext | undefined {
  if (value === undefined || value.length < 55 || value.length > 512) return undefined;
  const m = TRACEPARENT_RE.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m;
  if (version === 'ff' || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  if (version === '00' && value.trim().length !== 55) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1, remote: true };
}

export function formatTraceparent(ctx: ParentContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

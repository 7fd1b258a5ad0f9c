/**
 * The upstream's own rate-limit headers, read passively from every answer of a provider with capacity on
 * (ADR 0063). Pure: raw undici header pairs in, what is left and until when out.
 *
 * - OpenAI (and Azure OpenAI, OpenAI-compatible servers): `x-ratelimit-remaining-requests`,
 *   `x-ratelimit-remaining-tokens`, `x-ratelimit-reset-requests`, `x-ratelimit-reset-tokens`; resets are
 *   Go-style durations (`1s`, `6m0s`, `12ms`, `1h2m3s`). Azure may send plain seconds, and `-1` for "unknown".
 * - Anthropic: `anthropic-ratelimit-requests-remaining`, `anthropic-ratelimit-tokens-remaining`,
 *   `anthropic-ratelimit-requests-reset`, `anthropic-ratelimit-tokens-reset`; resets are RFC 3339 instants.
 * Anything unreadable is ignored (a quirky header never fails a request).
 */

/** What one answer said; -1: not said (or unreadable). Resets are epoch ms. */
export interface RateLimitReading {
  requestsRemaining: number;
  requestsResetAt: number;
  tokensRemaining: number;
  tokensResetAt: number;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };
const GO_DURATION = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g;

/** A reset value in ms from `now` to epoch ms: a Go duration, plain seconds, or an RFC 3339 instant; -1 when unreadable. */
export function parseReset(v: string, now: number): number {
  const s = v.trim();
  if (s === '') return -1;
  if (/^\d+(\.\d+)?$/.test(s)) return now + Math.ceil(Number(s) * 1000);
  if (/^(\d+(\.\d+)?(ms|us|µs|ns|h|m|s))+$/.test(s)) {
    let ms = 0;
    for (const m of s.matchAll(GO_DURATION)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    return now + Math.ceil(ms);
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? -1 : t;
}

function count(v: string): number {
  const n = Number(v.trim());
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

/**
 * Reads the rate-limit headers out of undici's raw pairs (`[name, value, name, value, ...]`). Undefined when
 * the answer carried none (no object made then).
 */
export function readRateLimitHeaders(raw: readonly Buffer[], now: number): RateLimitReading | undefined {
  let out: RateLimitReading | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const nameBuf = raw[i]!;
    // Every header of interest starts with x-ratelimit- or anthropic-ratelimit-: skip the rest unread.
    const c = nameBuf[0];
    if (c !== 0x78 && c !== 0x58 && c !== 0x61 && c !== 0x41) continue;
    const name = nameBuf.toString('latin1').toLowerCase();
    let field: keyof RateLimitReading | undefined;
    switch (name) {
      case 'x-ratelimit-remaining-requests':
      case 'anthropic-ratelimit-requests-remaining':
        field = 'requestsRemaining';
        break;
      case 'x-ratelimit-remaining-tokens':
      case 'anthropic-ratelimit-tokens-remaining':
        field = 'tokensRemaining';
        break;
      case 'x-ratelimit-reset-requests':
      case 'anthropic-ratelimit-requests-reset':
        field = 'requestsResetAt';
        break;
      case 'x-ratelimit-reset-tokens':
      case 'anthropic-ratelimit-tokens-reset':
        field = 'tokensResetAt';
        break;
      default:
        continue;
    }
    const value = raw[i + 1]!.toString('latin1');
    out ??= { requestsRemaining: -1, requestsResetAt: -1, tokensRemaining: -1, tokensResetAt: -1 };
    out[field] = field.endsWith('ResetAt') ? parseReset(value, now) : count(value);
  }
  return out;
}

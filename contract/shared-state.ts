/**
 * Shared state in Redis: the key layout the data plane writes and the operator reads (ADR 0049). Only
 * this module knows it; dataplane/src/accounting/quota (the writer) and operator/src/quota-usage.ts (the
 * status reader) both import it. Pure: names, bucket arithmetic and the read rule, no I/O.
 *
 * Naming scheme for every family of shared state: `tollgate:<family>:<layout version>:<name>`. A family
 * bumps its version when the meaning of its keys changes, so an older pod never misreads a newer layout
 * (and the two never write over each other). Families today:
 *
 * - `tollgate:quota:v2:` quota counters (below).
 * - `tollgate:capacity:v1:` provider capacity counters (LLMProvider spec.limits, ADR 0063; below).
}

/**
 * - `tollgate:cache:v1:` response cache entries (below, ADR 0070).
 *
 * Room is kept for the families the architecture names next (capacity, cache entries, stored responses):
 * each gets its own `tollgate:<family>:v1:` prefix here when it exists, nothing is reserved before then.
 * New families put a Redis Cluster hash tag around the part one script call must keep together
 * (`tollgate:<family>:v1:{<tag>}<rest>`), so that every key one script touches hashes to one slot. The
 * quota counters carry no hash tag yet: an admission checks the counters of several policies and scopes
 * atomically, so a tag per counter would not make them Cluster-safe, and a tag change renames every key
 * (limits would restart from zero on upgrade). ADR 0049 records the decision and the path to `v3`.
 *
 * Quota counter (one Redis hash per limit and scope):
 *   key    `tollgate:quota:v2:<policy id>|<kind>|<window>|<scope>` for sliding windows,
 *          `tollgate:quota:v2:<policy id>|<kind>|month|<scope>|<YYYY-MM>` for calendar months (UTC);
 *          policy id `namespace/name`, kind `requests|tokens|costUSD`, window `<ms>ms` or `month`,
 *          scope `*` (shared), a key Secret id `namespace/name` (perKey) or `~anonymous`.
 *   fields bucket number → amount (decimal integers), `t` the running total of the live buckets, `lo`
 *          the lowest bucket that may still be present. costUSD counts nano-USD.
 *   buckets sliding window of W ms: width ceil(W/60) ms, bucket = floor(now / width); the window total
 *          counts the buckets ≥ current − count (count = ceil(W / width)). Calendar month: bucket 0.
 *   TTL    set when a bucket is created: window + 2 buckets; a month + 1 day.
 */

/**
 * Provider capacity counter: the quota counter layout (same hash fields, buckets and TTL, written by the same
 * script) under its own prefix, one per limit of an LLMProvider (spec.limits) or of one of its models
 * (spec.models[].limits), scope always `*` (the account is shared by every replica and key):
 *   key    `tollgate:capacity:v1:{<provider id>}|<kind>|<window>|*` for the provider's limits,
 *          `tollgate:capacity:v1:{<provider id>}#<model>|<kind>|<window>|*` for a model's own limits
 *          (a `|month|*|<YYYY-MM>` tail for calendar months, as for quotas).
 *   The hash tag is the provider id: one try's admission checks the provider's and the model's counters in
 *   one script call, and all of them hash to the same Cluster slot.
 */
export const CAPACITY_KEY_PREFIX = 'tollgate:capacity:v1:';

/** The "policy id" part of a capacity counter: `{<provider id>}` or `{<provider id>}#<model>`. */
export function capacityCounterOwner(providerId: string, model?: string): string {
  return model === undefined ? `{${providerId}}` : `{${providerId}}#${model}`;
}

/**
 * Response cache entry (one Redis string per cached answer, or per embeddings input item), ADR 0070:
 *   key    `tollgate:cache:v1:{<scope>}<digest>`; scope `ns:<namespace>` (scope namespace) or `key:<key id>`
 *          (scope perKey; `key:~anonymous` in open mode), digest the hex SHA-256 of the normalised request
 *          (dataplane/src/cache/key.ts). The scope is the hash tag: the items of one embeddings batch are read
 *          with one MGET, which Redis Cluster allows only within one slot.
 *   value  the entry as JSON (dataplane/src/cache/types.ts CacheEntry), at most the gateway's entry size cap.
 *   TTL    the route's spec.cache.ttl, set with the value (SET … PX).
 */
export const CACHE_KEY_PREFIX = 'tollgate:cache:v1:';

/** The cache key of one entry. */
export function cacheEntryKey(scope: string, digest: string, prefix = CACHE_KEY_PREFIX): string {
  return `${prefix}{${scope}}${digest}`;
}

/** Prefix of the quota counters; `v2`: the running-total layout (ADR 0031). */
export const QUOTA_KEY_PREFIX = 'tollgate:quota:v2:';

/** The counter scope of a `shared` policy. */
export const SHARED_SCOPE = '*';
/** The counter scope of anonymous requests under a perKey policy (open mode). */
export const ANONYMOUS_SCOPE = '~anonymous';

/** Hash fields of a counter besides the bucket numbers: running total and lowest live bucket. */
export const TOTAL_FIELD = 't';
export const LOW_FIELD = 'lo';

/** Sliding windows are split into this many buckets; the oldest partly covered bucket still counts. */
export const SLIDING_BUCKETS = 60;

/** costUSD counters count nano-USD (integers; no float drift in Redis). */
export const NANO_USD_PER_USD = 1e9;

export type QuotaCounterKind = 'requests' | 'tokens' | 'costUSD';
export type QuotaCounterWindow = { readonly type: 'sliding'; readonly ms: number } | { readonly type: 'calendarMonth' };

/** `<policy id>|<kind>|<window>`: stable while the policy keeps the limit (a changed amount keeps its counter). */
export function quotaCounterBase(policyId: string, kind: QuotaCounterKind, window: QuotaCounterWindow): string {
  return `${policyId}|${kind}|${window.type === 'calendarMonth' ? 'month' : `${window.ms}ms`}`;
}

/** A counter's name without the prefix: the base, the scope and, for calendar months, the month id. */
export function quotaCounterName(base: string, scopeId: string, monthId?: string): string {
  return monthId === undefined ? `${base}|${scopeId}` : `${base}|${scopeId}|${monthId}`;
}

/** Bucket width and count of a sliding window. */
export function slidingBuckets(windowMs: number): { bucketMs: number; buckets: number } {
  const bucketMs = Math.max(1, Math.ceil(windowMs / SLIDING_BUCKETS));
  return { bucketMs, buckets: Math.ceil(windowMs / bucketMs) };
}

/** The month of the last call: a request's month is computed without a Date per request. */
let lastMonth = { startMs: 0, endMs: 0, id: '' };

/** UTC calendar month id (`2026-11`) and its end (first ms of the next month). */
export function monthOf(now: number): { readonly id: string; readonly endMs: number } {
  const c = lastMonth;
  if (now >= c.startMs && now < c.endMs) return c;
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  lastMonth = {
    startMs: Date.UTC(y, m, 1),
    endMs: Date.UTC(y, m + 1, 1),
    id: `${y}-${String(m + 1).padStart(2, '0')}`,
  };
  return lastMonth;
}

/** Where a reader finds one limit's total at `now`: the full key and the lowest bucket that counts. */
export function quotaCounterAt(
  base: string,
  window: QuotaCounterWindow,
  scopeId: string,
  now: number,
  prefix = QUOTA_KEY_PREFIX,
): { key: string; minField: number } {
  if (window.type === 'calendarMonth') {
    return { key: prefix + quotaCounterName(base, scopeId, monthOf(now).id), minField: 0 };
  }
  const { bucketMs, buckets } = slidingBuckets(window.ms);
  return { key: prefix + quotaCounterName(base, scopeId), minField: Math.floor(now / bucketMs) - buckets };
}

/**
 * The window total of a counter read whole (HGETALL), without changing it: the running total when no
 * bucket below `minField` is left, else the sum of the live buckets (the writer drops old buckets only
 * when it next writes). An absent counter (empty hash) is 0.
 */
export function windowTotal(hash: Readonly<Record<string, string>>, minField: number): number {
  const t = hash[TOTAL_FIELD];
  if (t === undefined) return 0;
  const lo = hash[LOW_FIELD] === undefined ? minField : Number(hash[LOW_FIELD]);
  if (lo >= minField) return Number(t);
  let sum = 0;
  for (const f in hash) {
    if (f === TOTAL_FIELD || f === LOW_FIELD) continue;
    if (Number(f) >= minField) sum += Number(hash[f]);
  }
  return sum;
}

/**
 * Semantic cache index (ADR 0077): `tollgate:semantic:v1:{<fingerprint>}:vec` is a Redis 8 vector set
 * (elements: exact-cache entry keys, FP32 NOQUANT unit vectors; VSIM score = (1 + cosine) / 2) and
 * `tollgate:semantic:v1:{<fingerprint>}:exp` a sorted set of the same elements scored by expiry (epoch ms).
 * One fingerprint (semantic-prompt.ts: scope, route, model, embedding model, system, tools) per pair; the
 * hash tag keeps the pair in one slot, as the scripts touching both need.
 */
export const SEMANTIC_KEY_PREFIX = 'tollgate:semantic:v1:';

export function semanticIndexKeys(
  fingerprint: string,
  prefix = SEMANTIC_KEY_PREFIX,
): { vectors: string; expiries: string } {
  return { vectors: `${prefix}{${fingerprint}}:vec`, expiries: `${prefix}{${fingerprint}}:exp` };
}

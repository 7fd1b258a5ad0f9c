/**
 * The semantic cache's vector index (ADR 0077): the interface, and the bounded in-process index used when the
 * configured Redis has no vector sets (before Redis 8) or there is no Redis. The shared one is
 * semantic-redis.ts (Redis 8 vector sets, one set per fingerprint).
 *
 * In-process: brute-force cosine over unit Float32Arrays, per fingerprint; an entry cap and a memory bound
 * (vector bytes + a fixed overhead per entry), the oldest entry evicted first; expired entries dropped when a
 * lookup meets them. A lookup is O(entries of the fingerprint × dimensions) on the event loop: measured here
 * (2 loaded cores) ~34 ms over 10 000 entries of 1536 dimensions, so the default cap is 2 000 entries
 * (~7 ms worst case, all in one fingerprint) and 16 MiB (an entry of 1536 dimensions counts ~6.3 KB).
 */

/** The nearest stored prompt: the exact-cache key its answer is stored under, and the cosine similarity. */
export interface SemanticMatch {
  readonly entryKey: string;
  readonly similarity: number;
}

/** A vector index keyed by fingerprint (semantic-prompt.ts semanticFingerprint). Never throws or rejects. */
export interface SemanticIndex {
  /** `redis-vector-set` (shared across replicas) or `in-process` (this replica only). */
  readonly kind: 'redis-vector-set' | 'in-process';
  /** Remembers `vector` (unit length) for `entryKey` in `fingerprint`, for ttlMs. Fire and forget. */
  add(fingerprint: string, vector: Float32Array, entryKey: string, ttlMs: number): void;
  /** The most similar live vector of `fingerprint`, or undefined (none, or the store did not answer in time). */
  nearest(fingerprint: string, vector: Float32Array): Promise<SemanticMatch | undefined>;
  close(): Promise<void>;
}

export interface MemoryIndexOptions {
  /** Entries over all fingerprints; default 2 000. */
  readonly maxEntries?: number;
  /** Bytes of vectors + per-entry overhead over all fingerprints; default 16 MiB. */
  readonly maxBytes?: number;
  readonly now?: () => number;
}

/** Bytes an entry costs besides its vector: the object, its Map slots and the key string (an estimate). */
export const ENTRY_OVERHEAD_BYTES = 200;

interface Entry {
  readonly fingerprint: string;
  readonly entryKey: string;
  readonly vector: Float32Array;
  readonly expiresAt: number;
  readonly bytes: number;
}

export class MemoryIndex implements SemanticIndex {
  readonly kind = 'in-process' as const;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  /** Every entry, oldest first (a Map keeps insertion order): eviction takes the first. */
  private readonly all = new Map<string, Entry>();
  private readonly byFingerprint = new Map<string, Map<string, Entry>>();
  private usedBytes = 0;

  constructor(options: MemoryIndexOptions = {}) {
    this.maxEntries = options.maxEntries ?? 2000;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.all.size;
  }

  get bytes(): number {
    return this.usedBytes;
  }

  add(fingerprint: string, vector: Float32Array, entryKey: string, ttlMs: number): void {
    const bytes = vector.byteLength + ENTRY_OVERHEAD_BYTES + entryKey.length * 2;
    if (bytes > this.maxBytes || this.maxEntries <= 0) return;
    const id = `${fingerprint}\n${entryKey}`;
    const old = this.all.get(id);
    if (old !== undefined) this.remove(id, old);
    const e: Entry = { fingerprint, entryKey, vector: Float32Array.from(vector), expiresAt: this.now() + ttlMs, bytes };
    while (this.all.size >= this.maxEntries || this.usedBytes + bytes > this.maxBytes) {
      const first = this.all.entries().next().value;
      if (first === undefined) break;
      this.remove(first[0], first[1]);
    }
    this.all.set(id, e);
    let set = this.byFingerprint.get(fingerprint);
    if (set === undefined) {
      set = new Map();
      this.byFingerprint.set(fingerprint, set);
    }
    set.set(id, e);
    this.usedBytes += bytes;
  }

  nearest(fingerprint: string, vector: Float32Array): Promise<SemanticMatch | undefined> {
    return Promise.resolve(this.nearestNow(fingerprint, vector));
  }

  /** nearest, answered synchronously. */
  nearestNow(fingerprint: string, vector: Float32Array): SemanticMatch | undefined {
    const set = this.byFingerprint.get(fingerprint);
    if (set === undefined) return undefined;
    const now = this.now();
    let best: Entry | undefined;
    let bestDot = -2;
    for (const [id, e] of set) {
      if (e.expiresAt <= now) {
        this.remove(id, e);
        continue;
      }
      if (e.vector.length !== vector.length) continue;
      const v = e.vector;
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += v[i]! * vector[i]!;
      if (dot > bestDot) {
        bestDot = dot;
        best = e;
      }
    }
    return best === undefined ? undefined : { entryKey: best.entryKey, similarity: Math.min(1, bestDot) };
  }

  private remove(id: string, e: Entry): void {
    this.all.delete(id);
    const set = this.byFingerprint.get(e.fingerprint);
    if (set !== undefined) {
      set.delete(id);
      if (set.size === 0) this.byFingerprint.delete(e.fingerprint);
    }
    this.usedBytes -= e.bytes;
  }

  close(): Promise<void> {
    this.all.clear();
    this.byFingerprint.clear();
    this.usedBytes = 0;
    return Promise.resolve();
  }
}

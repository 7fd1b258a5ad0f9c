/**
 * The in-process cache store (no --redis): an LRU bounded in bytes, entries kept as their JSON text (what
 * Redis would hold, so both stores behave alike: a hit gets a fresh object, and the bound counts real bytes).
 * ADR 0070.
 */
import type { CacheEntry, CacheStore } from './types.js';

export interface MemoryStoreOptions {
  /** Most bytes of entries kept (UTF-16 string size, 2 bytes a character); the least recently used go first. */
  readonly maxBytes: number;
  /** Entries larger than this are not stored. */
  readonly maxEntryBytes: number;
  /** Epoch ms; tests inject a clock. */
  readonly now?: () => number;
}

interface Slot {
  readonly text: string;
  readonly expiresAt: number;
}

export class MemoryStore implements CacheStore {
  /** Insertion order is recency order: a hit re-inserts its key. */
  private readonly map = new Map<string, Slot>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxEntryBytes: number;
  private readonly now: () => number;

  constructor(o: MemoryStoreOptions) {
    this.maxBytes = o.maxBytes;
    this.maxEntryBytes = o.maxEntryBytes;
    this.now = o.now ?? Date.now;
  }

  readonly sync = {
    get: (key: string): CacheEntry | undefined => this.read(key),
    getMany: (keys: readonly string[]): (CacheEntry | undefined)[] => keys.map((k) => this.read(k)),
  };

  /** Bytes held (tests). */
  get size(): number {
    return this.bytes;
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return Promise.resolve(this.read(key));
  }

  getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    return Promise.resolve(keys.map((k) => this.read(k)));
  }

  set(key: string, entry: CacheEntry, ttlMs: number): void {
    const text = JSON.stringify(entry);
    const size = text.length * 2;
    if (size > this.maxEntryBytes || size > this.maxBytes) return;
    this.delete(key);
    this.map.set(key, { text, expiresAt: this.now() + ttlMs });
    this.bytes += size;
    for (const [k] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(k);
    }
  }

  close(): Promise<void> {
    this.map.clear();
    this.bytes = 0;
    return Promise.resolve();
  }

  private read(key: string): CacheEntry | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.now()) {
      this.delete(key);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, slot);
    try {
      return JSON.parse(slot.text) as CacheEntry;
    } catch {
      return undefined;
    }
  }

  private delete(key: string): void {
    const slot = this.map.get(key);
    if (slot === undefined) return;
    this.map.delete(key);
    this.bytes -= slot.text.length * 2;
  }
}

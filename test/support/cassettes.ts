/** Test helpers for the provider translators: cassettes and SSE replay in odd chunk sizes (tests only; not in the image). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StreamTranslator } from '../../dataplane/src/providers/types.js';
import { type SseEvent, SseParser } from '../../dataplane/src/sse/sse.js';

export interface Cassette {
  description: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  bodyText?: string;
  sse?: string;
}

const DIR = fileURLToPath(new URL('../fixtures/cassettes/', import.meta.url));

export function cassette(name: string): Cassette {
  return JSON.parse(readFileSync(`${DIR}${name}.json`, 'utf8')) as Cassette;
}

/** The cassette's error body as the upstream would send it. */
export function bodyText(c: Cassette): string {
  return c.bodyText ?? JSON.stringify(c.body);
}

/** Feeds raw SSE through SseParser in chunks of `size` bytes and the events through the translator. */
export function replay(sse: string, t: StreamTranslator, size: number): SseEvent[] {
  const parser = new SseParser();
  const bytes = new TextEncoder().encode(sse);
  const out: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    for (const ev of parser.push(bytes.subarray(i, i + size))) out.push(...t.event(ev));
  }
  for (const ev of parser.end()) out.push(...t.event(ev));
  out.push(...t.end());
  return out;
}

/** Odd chunk sizes used by every stream test: one byte, primes, and whole. */
export const CHUNK_SIZES = [1, 3, 7, 64, 1 << 20];

export function parsedData(events: SseEvent[]): unknown[] {
  return events.map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));
}

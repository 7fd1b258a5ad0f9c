/**
 * Server-sent events: an incremental parser (bytes in any chunking → whole events) and a serializer.
 * Pure and allocation-light: it is on the streaming hot path.
 */
export interface SseEvent {
  /** `event:` field; absent for unnamed events (OpenAI streams). */
  event?: string;
  /** `data:` lines joined by \n. */
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private eventName: string | undefined;
  private dataLines: string[] = [];
  private lastId: string | undefined;

  /** Feeds a chunk; returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl === -1) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      start = nl + 1;
      this.line(line, out);
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
    return out;
  }

  /** Ends the input: a final event without its blank line is still delivered. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer.length > 0) this.line(this.buffer.replace(/\r$/, ''), out);
    this.buffer = '';
    this.line('', out);
    return out;
  }

  /** True when bytes of an unfinished event are pending (a stream cut mid-event). */
  get pending(): boolean {
    return this.buffer.length > 0 || this.dataLines.length > 0;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0 || this.eventName !== undefined) {
        const ev: SseEvent = { data: this.dataLines.join('\n') };
        if (this.eventName !== undefined) ev.event = this.eventName;
        if (this.lastId !== undefined) ev.id = this.lastId;
        out.push(ev);
      }
      this.eventName = undefined;
      this.dataLines = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* : comment */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
    else if (field === 'id') this.lastId = value;
  }
}

/** Serializes one event (with its terminating blank line). */
export function formatSse(ev: SseEvent): string {
  let s = ev.event === undefined ? '' : `event: ${ev.event}\n`;
  if (ev.data.indexOf('\n') === -1) s += `data: ${ev.data}\n\n`;
  else
    s += `${ev.data
      .split('\n')
      .map((l) => `data: ${l}`)
      .join('\n')}\n\n`;
  return s;
}

/**
 * Batches ended spans and exports them, following the OpenTelemetry batch span processor: a bounded queue
 * (spans beyond it are dropped and counted, never blocking a request), an export as soon as a full batch
 * is queued or when the schedule delay has passed, one export at a time, flush on shutdown.
 *
 * A span is encoded the moment it ends, straight into its batch's request body (a Buffer outside V8's
 * heap): the span object dies young with its request instead of waiting in a queue for the next export,
 * which had it promoted to old space and paid for by the garbage collector (ADR 0035).
 */
import type { RecordedSpan, SpanSink } from './span.js';

export interface BatchSettings {
  /** OTEL_BSP_SCHEDULE_DELAY: longest wait before queued spans are exported (ms). */
  delayMs: number;
  /** OTEL_BSP_MAX_QUEUE_SIZE: spans held at most; more are dropped. */
  maxQueueSize: number;
  /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE: spans per export at most. */
  maxExportBatchSize: number;
  /** OTEL_BSP_EXPORT_TIMEOUT: longest an export may take before it is given up (ms). */
  exportTimeoutMs: number;
}

/** How spans become one export request body: `head`, the spans joined by commas, `tail`. */
export interface BatchEncoder {
  readonly head: string;
  readonly tail: string;
  span(s: RecordedSpan): string;
}

/** One export request: its encoded body and how many spans it holds. */
export interface EncodedBatch {
  readonly count: number;
  readonly body: Buffer;
}

/** Sends one batch; calls back once with whether it was accepted. */
export type ExportFn = (batch: EncodedBatch, done: (ok: boolean, error?: Error) => void) => void;

export interface BatchEvents {
  /** Spans were dropped because the queue was full (reported at most once per export cycle). */
  dropped?(count: number): void;
  /** An export failed (the spans are lost: OTLP exporters do their own retries before saying so). */
  failed?(count: number, error: Error | undefined): void;
}

/** Bytes a span takes at first guess; later batches size their buffer by the spans seen so far. */
const SPAN_BYTES_GUESS = 1024;

/** One request body being filled. */
class BodyBuilder {
  private buf: Buffer;
  private len: number;
  count = 0;

  constructor(
    private readonly enc: BatchEncoder,
    capacity: number,
  ) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(capacity, enc.head.length * 3 + enc.tail.length * 3 + 64));
    this.len = this.buf.write(enc.head, 0, 'utf8');
  }

  add(json: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes; room for the comma and the tail too.
    const need = json.length * 3 + 1 + this.enc.tail.length * 3;
    if (this.len + need > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.len + need));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    if (this.count > 0) this.buf[this.len++] = 0x2c; // ,
    this.len += this.buf.write(json, this.len, 'utf8');
    this.count++;
  }

  finish(): EncodedBatch {
    this.len += this.buf.write(this.enc.tail, this.len, 'utf8');
    return { count: this.count, body: this.buf.subarray(0, this.len) };
  }
}

export class SpanBatcher implements SpanSink {
  /** Full batches waiting for the running export to end. */
  private ready: EncodedBatch[] = [];
  /** The batch spans are being added to. */
  private filling: BodyBuilder | undefined;
  /** Spans in `ready` and `filling` (not those being exported). */
  private queued = 0;
  /** Encoded bytes per span in the last sealed batch (sizes the next batch's buffer). */
  private spanBytes = SPAN_BYTES_GUESS;
  private timer: NodeJS.Timeout | undefined;
  private exporting: Promise<void> | undefined;
  private droppedSinceReport = 0;
  private stopped = false;
  /** Totals, for tests and diagnostics. */
  readonly stats = { exported: 0, dropped: 0, failed: 0 };

  constructor(
    private readonly encoder: BatchEncoder,
    private readonly send: ExportFn,
    private readonly settings: BatchSettings,
    private readonly events: BatchEvents = {},
  ) {}

  onEnd(span: RecordedSpan): void {
    if (this.stopped) return;
    if (this.queued >= this.settings.maxQueueSize) {
      this.stats.dropped++;
      this.droppedSinceReport++;
      return;
    }
    const max = this.settings.maxExportBatchSize;
    this.filling ??= new BodyBuilder(this.encoder, Math.ceil(max * this.spanBytes * 1.1));
    this.filling.add(this.encoder.span(span));
    this.queued++;
    if (this.filling.count >= max) this.ready.push(this.seal());
    if (this.exporting) return; // the running export looks at the queue when it ends
    if (this.ready.length > 0) this.exportNext();
    else this.timer ??= setTimeout(() => this.exportNext(), this.settings.delayMs).unref();
  }

  /** Exports everything queued (in batches) and waits for it. */
  async flush(): Promise<void> {
    while (this.exporting || this.queued > 0) {
      if (!this.exporting) this.exportNext();
      await this.exporting;
    }
  }

  /** Flushes, then accepts no more spans. */
  async shutdown(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private seal(): EncodedBatch {
    const b = this.filling!.finish();
    this.filling = undefined;
    this.spanBytes = b.body.length / b.count;
    return b;
  }

  private exportNext(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.exporting) return;
    const batch = this.ready.shift() ?? (this.filling ? this.seal() : undefined);
    if (batch === undefined) return;
    this.queued -= batch.count;
    if (this.droppedSinceReport > 0) {
      this.events.dropped?.(this.droppedSinceReport);
      this.droppedSinceReport = 0;
    }
    this.exporting = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (ok: boolean, error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (ok) this.stats.exported += batch.count;
        else {
          this.stats.failed += batch.count;
          this.events.failed?.(batch.count, error);
        }
        resolve();
      };
      const timeout = setTimeout(
        () => finish(false, new Error(`span export timed out after ${this.settings.exportTimeoutMs} ms`)),
        this.settings.exportTimeoutMs,
      ).unref();
      try {
        this.send(batch, finish);
      } catch (err) {
        finish(false, err as Error);
      }
    }).then(() => {
      this.exporting = undefined;
      if (this.stopped) return;
      if (this.ready.length > 0) this.exportNext();
      else if (this.queued > 0) this.timer ??= setTimeout(() => this.exportNext(), this.settings.delayMs).unref();
    });
  }
}

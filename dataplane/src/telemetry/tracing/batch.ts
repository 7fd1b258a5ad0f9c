/**
 * Batches ended spans and exports them, following the OpenTelemetry batch span processor: a bounded queue
 * (spans beyond it are dropped and counted, never blocking a request), an export as soon as a full batch
 * is queued or when the schedule delay has passed, one export at a time, flush on shutdown.
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

/** Sends one batch; calls back once with whether it was accepted. */
export type ExportFn = (spans: RecordedSpan[], done: (ok: boolean, error?: Error) => void) => void;

export interface BatchEvents {
  /** Spans were dropped because the queue was full (reported at most once per export cycle). */
  dropped?(count: number): void;
  /** An export failed (the spans are lost: OTLP exporters do their own retries before saying so). */
  failed?(count: number, error: Error | undefined): void;
}

export class SpanBatcher implements SpanSink {
  private queue: RecordedSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private exporting: Promise<void> | undefined;
  private droppedSinceReport = 0;
  private stopped = false;
  /** Totals, for tests and diagnostics. */
  readonly stats = { exported: 0, dropped: 0, failed: 0 };

  constructor(
    private readonly send: ExportFn,
    private readonly settings: BatchSettings,
    private readonly events: BatchEvents = {},
  ) {}

  onEnd(span: RecordedSpan): void {
    if (this.stopped) return;
    if (this.queue.length >= this.settings.maxQueueSize) {
      this.stats.dropped++;
      this.droppedSinceReport++;
      return;
    }
    this.queue.push(span);
    if (this.exporting) return; // the running export looks at the queue when it ends
    if (this.queue.length >= this.settings.maxExportBatchSize) this.exportNext();
    else this.timer ??= setTimeout(() => this.exportNext(), this.settings.delayMs).unref();
  }

  /** Exports everything queued (in batches) and waits for it. */
  async flush(): Promise<void> {
    while (this.exporting || this.queue.length > 0) {
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

  private exportNext(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.exporting || this.queue.length === 0) return;
    const max = this.settings.maxExportBatchSize;
    const batch = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
    this.queue = this.queue.length <= max ? [] : this.queue.slice(max);
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
        if (ok) this.stats.exported += batch.length;
        else {
          this.stats.failed += batch.length;
          this.events.failed?.(batch.length, error);
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
      if (this.queue.length >= this.settings.maxExportBatchSize) this.exportNext();
      else if (this.queue.length > 0) this.timer ??= setTimeout(() => this.exportNext(), this.settings.delayMs).unref();
    });
  }
}

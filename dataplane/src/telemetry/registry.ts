/**
 * A small metrics registry: counters and histograms with label sets bound once (a bound child is a plain
 * object with number fields, so recording is an add, no allocation, no hashing), rendered as Prometheus
 * text for GET /metrics. OTLP export reads the same children when it collects (`snapshot()`, see
 * otel.ts): recording costs the same with or without OTLP. The text encoding itself is
 * contract/prometheus.ts's, shared with the operator.
 */
import {
  exposition,
  formatValue as fmt,
  labelText,
  PROMETHEUS_CONTENT_TYPE,
  pushHeader,
} from '../../../contract/prometheus.js';

export { PROMETHEUS_CONTENT_TYPE };

/** One series of a metric at collection time. */
export interface SeriesSnapshot {
  /** Label name → value (built once, when the label set was first bound). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Counter: the total (scaled counters already divided). */
  readonly value: number;
  /** Histogram: per-bucket counts (not cumulative), one more than the bucket bounds (the last is +Inf). */
  readonly counts?: number[];
  readonly sum?: number;
}

export interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly kind: 'counter' | 'histogram';
  readonly buckets?: readonly number[];
  readonly series: SeriesSnapshot[];
}

export class CounterChild {
  value = 0;
  inc(v = 1): void {
    this.value += v;
  }
}

export class HistogramChild {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(private readonly buckets: readonly number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }
  observe(v: number): void {
    const b = this.buckets;
    // Buckets are few (≤ 20): a linear scan beats a binary search here.
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }
}

interface Metric {
  render(out: string[]): void;
  snapshot(): MetricSnapshot;
}

abstract class Vec<C> implements Metric {
  protected readonly children = new Map<string, { values: string[]; attrs: Record<string, string>; child: C }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}
  protected abstract make(): C;
  /** The child for these label values; cache it where the values are known in advance. */
  labels(...values: string[]): C {
    const k = values.length === 1 ? values[0]! : values.join('\u0001');
    const hit = this.children.get(k);
    if (hit) return hit.child;
    const attrs: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) attrs[this.labelNames[i]!] = values[i] ?? '';
    const child = this.make();
    this.children.set(k, { values, attrs, child });
    return child;
  }
  abstract render(out: string[]): void;
  abstract snapshot(): MetricSnapshot;
}

export class CounterVec extends Vec<CounterChild> {
  /** Divisor applied when the value is shown (1 for plain counters). */
  protected readonly scale: number = 1;
  protected make(): CounterChild {
    return new CounterChild();
  }
  snapshot(): MetricSnapshot {
    const series: SeriesSnapshot[] = [];
    for (const { attrs, child } of this.children.values())
      series.push({ attributes: attrs, value: child.value / this.scale });
    return { name: this.name, help: this.help, kind: 'counter', series };
  }
  render(out: string[]): void {
    pushHeader(out, this.name, this.help, 'counter');
    for (const { values, child } of this.children.values()) {
      out.push(`${this.name}${labelText(this.labelNames, values)} ${fmt(child.value)}`);
    }
  }
}

/** A counter kept in integer units and exposed scaled (e.g. nano-USD shown as USD): no float drift. */
export class ScaledCounterVec extends CounterVec {
  protected override readonly scale: number;
  constructor(name: string, help: string, labelNames: readonly string[], scale: number) {
    super(name, help, labelNames);
    this.scale = scale;
  }
  override render(out: string[]): void {
    pushHeader(out, this.name, this.help, 'counter');
    for (const { values, child } of this.children.values()) {
      out.push(`${this.name}${labelText(this.labelNames, values)} ${fmt(child.value / this.scale)}`);
    }
  }
}

export class HistogramVec extends Vec<HistogramChild> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }
  protected make(): HistogramChild {
    return new HistogramChild(this.buckets);
  }
  snapshot(): MetricSnapshot {
    const series: SeriesSnapshot[] = [];
    for (const { attrs, child } of this.children.values()) {
      let inBuckets = 0;
      for (const c of child.counts) inBuckets += c;
      series.push({
        attributes: attrs,
        value: child.count,
        counts: [...child.counts, child.count - inBuckets],
        sum: child.sum,
      });
    }
    return { name: this.name, help: this.help, kind: 'histogram', buckets: this.buckets, series };
  }
  render(out: string[]): void {
    pushHeader(out, this.name, this.help, 'histogram');
    for (const { values, child } of this.children.values()) {
      let cum = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cum += child.counts[i]!;
        out.push(`${this.name}_bucket${labelText(this.labelNames, values, `le="${fmt(this.buckets[i]!)}"`)} ${cum}`);
      }
      out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${child.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${fmt(child.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, values)} ${child.count}`);
    }
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string, labelNames: readonly string[]): CounterVec {
    const m = new CounterVec(name, help, labelNames);
    this.metrics.push(m);
    return m;
  }
  scaledCounter(name: string, help: string, labelNames: readonly string[], scale: number): ScaledCounterVec {
    const m = new ScaledCounterVec(name, help, labelNames, scale);
    this.metrics.push(m);
    return m;
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): HistogramVec {
    const m = new HistogramVec(name, help, labelNames, buckets);
    this.metrics.push(m);
    return m;
  }

  /** Every metric's series as they are now (OTLP export). */
  snapshot(): MetricSnapshot[] {
    return this.metrics.map((m) => m.snapshot());
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics) m.render(out);
    return exposition(out);
  }
}

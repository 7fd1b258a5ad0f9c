/**
 * A small metrics registry: counters and histograms with label sets bound once (a bound child is a plain
 * object with a number field, so recording is an add, no allocation), rendered as Prometheus text for
 * GET /metrics. When OTLP metrics export is on, every bound child also records into an OpenTelemetry
 * instrument with an attributes object built once at binding.
 */

/** Records into an OpenTelemetry instrument (set only when OTLP export is configured). */
export type Mirror = (value: number, attributes: Record<string, string>) => void;

export interface MirrorFactory {
  counter(name: string, help: string): Mirror;
  histogram(name: string, help: string, buckets: readonly number[]): Mirror;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabel(values[i] ?? '')}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function fmt(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(15)));
}

export class CounterChild {
  value = 0;
  constructor(
    private readonly mirror: Mirror | undefined,
    private readonly attrs: Record<string, string>,
  ) {}
  inc(v = 1): void {
    this.value += v;
    if (this.mirror) this.mirror(v, this.attrs);
  }
}

export class HistogramChild {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(
    private readonly buckets: readonly number[],
    private readonly mirror: Mirror | undefined,
    private readonly attrs: Record<string, string>,
  ) {
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
    if (this.mirror) this.mirror(v, this.attrs);
  }
}

interface Metric {
  render(out: string[]): void;
}

abstract class Vec<C> implements Metric {
  protected readonly children = new Map<string, { values: string[]; child: C }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}
  protected abstract make(attrs: Record<string, string>): C;
  /** The child for these label values; cache it where the values are known in advance. */
  labels(...values: string[]): C {
    const k = values.length === 1 ? values[0]! : values.join('\u0001');
    const hit = this.children.get(k);
    if (hit) return hit.child;
    const attrs: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) attrs[this.labelNames[i]!] = values[i] ?? '';
    const child = this.make(attrs);
    this.children.set(k, { values, child });
    return child;
  }
  abstract render(out: string[]): void;
}

export class CounterVec extends Vec<CounterChild> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly mirror: Mirror | undefined,
  ) {
    super(name, help, labelNames);
  }
  protected make(attrs: Record<string, string>): CounterChild {
    return new CounterChild(this.mirror, attrs);
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    for (const { values, child } of this.children.values()) {
      out.push(`${this.name}${labelText(this.labelNames, values)} ${fmt(child.value)}`);
    }
  }
}

/** A counter kept in integer units and exposed scaled (e.g. nano-USD shown as USD): no float drift. */
export class ScaledCounterVec extends CounterVec {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly scale: number,
    mirror: Mirror | undefined,
  ) {
    super(name, help, labelNames, mirror === undefined ? undefined : (v, a) => mirror(v / scale, a));
  }
  override render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
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
    private readonly mirror: Mirror | undefined,
  ) {
    super(name, help, labelNames);
  }
  protected make(attrs: Record<string, string>): HistogramChild {
    return new HistogramChild(this.buckets, this.mirror, attrs);
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
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
  constructor(private readonly mirrors?: MirrorFactory) {}

  counter(name: string, help: string, labelNames: readonly string[]): CounterVec {
    const m = new CounterVec(name, help, labelNames, this.mirrors?.counter(name, help));
    this.metrics.push(m);
    return m;
  }
  scaledCounter(name: string, help: string, labelNames: readonly string[], scale: number): ScaledCounterVec {
    const m = new ScaledCounterVec(name, help, labelNames, scale, this.mirrors?.counter(name, help));
    this.metrics.push(m);
    return m;
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): HistogramVec {
    const m = new HistogramVec(name, help, labelNames, buckets, this.mirrors?.histogram(name, help, buckets));
    this.metrics.push(m);
    return m;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics) m.render(out);
    return `${out.join('\n')}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

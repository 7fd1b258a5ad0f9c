/**
 * OpenTelemetry SDK setup, only when the standard OTLP variables ask for it. With none set, nothing here
 * is loaded on the request path: no tracer, no meter, no exporter (the hooks check one boolean).
 *
 * Traces: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP/HTTP JSON, batched).
 * Metrics: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (every
 * OTEL_METRIC_EXPORT_INTERVAL ms, default 60000). OTEL_SERVICE_NAME names the service (default tollgate).
 * OTEL_SDK_DISABLED=true turns both off.
 */
import { type HrTime, type Tracer, ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  MeterProvider,
  type MetricData,
  type MetricProducer,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { MetricSnapshot, Registry } from './registry.js';

export interface OtelSettings {
  traces: boolean;
  metrics: boolean;
  serviceName: string;
  metricIntervalMs: number;
  /** Full OTLP/HTTP URLs (signal-specific variable, else the base endpoint + /v1/<signal>). */
  tracesUrl: string | undefined;
  metricsUrl: string | undefined;
  /** Batch span processor: OTEL_BSP_SCHEDULE_DELAY, _MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE, _EXPORT_TIMEOUT. */
  batch: { delayMs: number; maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMs: number };
}

function positiveInt(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n > 0 ? n : dflt;
}

function signalUrl(env: NodeJS.ProcessEnv, specific: string | undefined, signal: string): string | undefined {
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/${signal}` : undefined;
}

export function otelSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): OtelSettings {
  const off = (env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true';
  const base = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  return {
    traces: !off && (base || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) && env.OTEL_TRACES_EXPORTER !== 'none',
    metrics: !off && (base || Boolean(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)) && env.OTEL_METRICS_EXPORTER !== 'none',
    serviceName: env.OTEL_SERVICE_NAME || 'tollgate',
    metricIntervalMs: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
    tracesUrl: signalUrl(env, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 'traces'),
    metricsUrl: signalUrl(env, env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'metrics'),
    batch: {
      delayMs: positiveInt(env.OTEL_BSP_SCHEDULE_DELAY, 1000),
      maxQueueSize: positiveInt(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048),
      maxExportBatchSize: positiveInt(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512),
      exportTimeoutMs: positiveInt(env.OTEL_BSP_EXPORT_TIMEOUT, 30_000),
    },
  };
}

export interface Otel {
  readonly tracer: Tracer | undefined;
  /**
   * Exports this registry's metrics over OTLP (when metrics export is on): read when the exporter collects,
   * so recording a value never touches the OpenTelemetry SDK.
   */
  exportMetrics(registry: Registry): void;
  /** Flushes pending spans and metrics. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** OTel metric names for the Prometheus names of the contract (semantic-convention names where they exist). */
const OTEL_NAMES: Record<string, { name: string; unit?: string }> = {
  gen_ai_client_token_usage: { name: 'gen_ai.client.token.usage', unit: '{token}' },
  gen_ai_client_operation_duration_seconds: { name: 'gen_ai.client.operation.duration', unit: 's' },
  tollgate_time_to_first_token_seconds: { name: 'tollgate.time_to_first_token', unit: 's' },
};

function otelName(prom: string): { name: string; unit?: string } {
  return OTEL_NAMES[prom] ?? { name: prom.replace(/_total$/, '') };
}

export function startOtel(settings: OtelSettings): Otel {
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName });
  let tracerProvider: BasicTracerProvider | undefined;
  let tracer: Tracer | undefined;
  if (settings.traces) {
    tracerProvider = new BasicTracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl }), {
          scheduledDelayMillis: settings.batch.delayMs,
          maxQueueSize: settings.batch.maxQueueSize,
          maxExportBatchSize: Math.min(settings.batch.maxExportBatchSize, settings.batch.maxQueueSize),
          exportTimeoutMillis: settings.batch.exportTimeoutMs,
        }),
      ],
    });
    tracer = tracerProvider.getTracer('tollgate');
  }
  let meterProvider: MeterProvider | undefined;
  const producer = new RegistryProducer(resource);
  if (settings.metrics) {
    meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: settings.metricsUrl }),
          exportIntervalMillis: settings.metricIntervalMs,
          exportTimeoutMillis: Math.min(30_000, settings.metricIntervalMs),
          metricProducers: [producer],
        }),
      ],
    });
  }
  return {
    tracer,
    exportMetrics(registry) {
      producer.registry = registry;
    },
    async flush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

function hrTime(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/** Turns the registry's cumulative counters and histograms into OTLP metric data when the reader collects. */
class RegistryProducer implements MetricProducer {
  registry: Registry | undefined;
  private readonly start: HrTime = hrTime();

  constructor(private readonly resource: ReturnType<typeof resourceFromAttributes>) {}

  async collect(): Promise<CollectionResult> {
    const metrics: MetricData[] = [];
    const end = hrTime();
    if (this.registry)
      for (const m of this.registry.snapshot()) if (m.series.length > 0) metrics.push(this.toData(m, end));
    return {
      resourceMetrics: { resource: this.resource, scopeMetrics: [{ scope: { name: 'tollgate' }, metrics }] },
      errors: [],
    };
  }

  private toData(m: MetricSnapshot, endTime: HrTime): MetricData {
    const n = otelName(m.name);
    const descriptor = { name: n.name, description: m.help, unit: n.unit ?? '', valueType: ValueType.DOUBLE };
    const startTime = this.start;
    if (m.kind === 'counter')
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: m.series.map((s) => ({ startTime, endTime, attributes: s.attributes, value: s.value })),
      };
    const boundaries = [...(m.buckets ?? [])];
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: m.series.map((s) => ({
        startTime,
        endTime,
        attributes: s.attributes,
        value: { buckets: { boundaries, counts: s.counts ?? [] }, sum: s.sum ?? 0, count: s.value },
      })),
    };
  }
}

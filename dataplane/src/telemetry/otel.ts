/**
 * OpenTelemetry export, only when the standard OTLP variables ask for it. With none set, nothing here
 * is loaded on the request path: no tracer, no meter, no exporter (the hooks check one boolean).
 *
 * Traces: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP/HTTP JSON, batched per
 * OTEL_BSP_*, sampled per OTEL_TRACES_SAMPLER). Spans are recorded and encoded by tracing/ (ADR 0032) and
 * sent through opentelemetry-js's export delegate and configuration (OTEL_EXPORTER_OTLP_*_HEADERS,
 * _COMPRESSION, _TIMEOUT) by our undici transport (otlp-http.ts: the TLS variables, the spec's retries;
 * ADR 0035).
 * Metrics: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (every
 * OTEL_METRIC_EXPORT_INTERVAL ms, default 60000).
 * OTEL_SERVICE_NAME names the service (default tollgate); OTEL_RESOURCE_ATTRIBUTES adds resource attributes.
 * OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT and OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT (or the OTEL_ATTRIBUTE_* ones)
 * limit span attributes; the event and link limits do not apply (Tollgate's spans have neither).
 * OTEL_SDK_DISABLED=true turns both off.
 */
import { type HrTime, ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { createOtlpNetworkExportDelegate, OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExporterMetrics } from '@opentelemetry/otlp-exporter-base/node-http';
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
import type { Logger } from '../log.js';
import { tlsFromEnv, UndiciOtlpTransport } from './otlp-http.js';
import type { MetricSnapshot, Registry } from './registry.js';
import {
  ATTR_SERVICE_NAME,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
} from './semconv.js';
import { type BatchSettings, type EncodedBatch, SpanBatcher } from './tracing/batch.js';
import { DEFAULT_SPAN_LIMITS, OtlpJsonTraceEncoder, type SpanLimits } from './tracing/otlp-json.js';
import { type SamplerChoice, samplerFromEnv } from './tracing/sampler.js';
import { Tracer } from './tracing/tracer.js';

export interface OtelSettings {
  traces: boolean;
  metrics: boolean;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded (serviceName, not this, gives service.name). */
  resourceAttributes: Record<string, string>;
  sampler: SamplerChoice;
  metricIntervalMs: number;
  /** Full OTLP/HTTP URLs (signal-specific variable, else the base endpoint + /v1/<signal>). */
  tracesUrl: string | undefined;
  metricsUrl: string | undefined;
  /** Batch span processor: OTEL_BSP_SCHEDULE_DELAY, _MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE, _EXPORT_TIMEOUT. */
  batch: BatchSettings;
  /** OTEL_SPAN_ATTRIBUTE_*_LIMIT, else OTEL_ATTRIBUTE_*_LIMIT. */
  spanLimits: SpanLimits;
}

/** Spans per export when OTEL_BSP_MAX_EXPORT_BATCH_SIZE is unset (see otelSettingsFromEnv). */
export const DEFAULT_EXPORT_BATCH = 128;

function positiveInt(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n > 0 ? n : dflt;
}

/** A limit variable: a non-negative integer, else undefined (unset or unusable: the next one applies). */
function limitVar(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && v.trim() !== '' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

function spanLimitsFromEnv(env: NodeJS.ProcessEnv): SpanLimits {
  return {
    attributeCount:
      limitVar(env.OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT) ??
      limitVar(env.OTEL_ATTRIBUTE_COUNT_LIMIT) ??
      DEFAULT_SPAN_LIMITS.attributeCount,
    attributeValueLength:
      limitVar(env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT) ??
      limitVar(env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) ??
      DEFAULT_SPAN_LIMITS.attributeValueLength,
  };
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
  const resource = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  const maxQueueSize = positiveInt(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048);
  return {
    traces: !off && (base || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) && env.OTEL_TRACES_EXPORTER !== 'none',
    metrics: !off && (base || Boolean(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)) && env.OTEL_METRICS_EXPORTER !== 'none',
    // The spec's precedence: OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES.
    serviceName: env.OTEL_SERVICE_NAME || resource[ATTR_SERVICE_NAME] || 'tollgate',
    resourceAttributes: resource,
    sampler: samplerFromEnv(env),
    metricIntervalMs: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
    tracesUrl: signalUrl(env, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 'traces'),
    metricsUrl: signalUrl(env, env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'metrics'),
    batch: {
      delayMs: positiveInt(env.OTEL_BSP_SCHEDULE_DELAY, 1000),
      maxQueueSize,
      // A batch larger than the queue could never fill (the spec: the batch size must not exceed the queue).
      // Default 128, not the spec's 512: at thousands of spans a second, spans waiting for a 512-span batch
      // live long enough to be promoted to V8's old space, and the gateway held ~30 MB more RSS under
      // load (ADR 0032). The variable still wins.
      maxExportBatchSize: Math.min(positiveInt(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, DEFAULT_EXPORT_BATCH), maxQueueSize),
      exportTimeoutMs: positiveInt(env.OTEL_BSP_EXPORT_TIMEOUT, 30_000),
    },
    spanLimits: spanLimitsFromEnv(env),
  };
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, percent-encoded (W3C Baggage octets).
 * A malformed pair is skipped, as the spec asks; a value that does not decode is kept as written.
 */
export function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key === '') continue;
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out;
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
  gen_ai_client_token_usage: { name: METRIC_GEN_AI_CLIENT_TOKEN_USAGE, unit: '{token}' },
  gen_ai_client_operation_duration_seconds: { name: METRIC_GEN_AI_CLIENT_OPERATION_DURATION, unit: 's' },
  tollgate_time_to_first_token_seconds: { name: 'tollgate.time_to_first_token', unit: 's' },
};

function otelName(prom: string): { name: string; unit?: string } {
  return OTEL_NAMES[prom] ?? { name: prom.replace(/_total$/, '') };
}

export function startOtel(settings: OtelSettings, logger?: Logger): Otel {
  const attributes = { ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName };
  const resource = resourceFromAttributes(attributes);
  let batcher: SpanBatcher | undefined;
  let exporter: OTLPExporterBase<EncodedBatch> | undefined;
  let tracer: Tracer | undefined;
  if (settings.traces) {
    if (settings.sampler.warning) logger?.warn(settings.sampler.warning);
    exporter = spanExporter(settings, logger);
    const send = exporter.export.bind(exporter);
    batcher = new SpanBatcher(
      new OtlpJsonTraceEncoder(attributes, 'tollgate', undefined, settings.spanLimits),
      (batch, done) => send(batch, (r) => done(r.code === EXPORT_SUCCESS, r.error)),
      settings.batch,
      exportProblems(logger),
    );
    tracer = new Tracer(settings.sampler.sampler, batcher);
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
      await Promise.all([batcher?.flush(), meterProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([batcher?.shutdown().then(() => exporter?.shutdown()), meterProvider?.shutdown()]);
    },
  };
}

/** ExportResultCode.SUCCESS of @opentelemetry/core. */
const EXPORT_SUCCESS = 0;

/**
 * opentelemetry-js's export delegate and configuration (URL, env headers, compression, timeout) with our
 * undici transport (otlp-http.ts) and the batches' already encoded bodies.
 */
function spanExporter(settings: OtelSettings, logger?: Logger): OTLPExporterBase<EncodedBatch> {
  const options = convertLegacyHttpOptions(
    { url: settings.tracesUrl, timeoutMillis: settings.batch.exportTimeoutMs },
    'TRACES',
    'v1/traces',
    { 'Content-Type': 'application/json' },
  );
  const serializer = {
    serializeRequest: (batch: EncodedBatch) => batch.body,
    deserializeResponse: (data: Uint8Array): object => {
      if (data.length === 0) return {};
      try {
        const parsed: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
        return typeof parsed === 'object' && parsed !== null ? parsed : {};
      } catch {
        return {};
      }
    },
  };
  const counter = { name: 'span' as const, countItems: (batch: EncodedBatch) => batch.count };
  const transport = new UndiciOtlpTransport({
    url: options.url,
    headers: options.headers,
    compression: options.compression,
    tls: tlsFromEnv(process.env, (msg) => logger?.warn(msg)),
  });
  const metrics = createOtlpHttpExporterMetrics('otlp_http_span_exporter', counter, options.url, undefined);
  return new OTLPExporterBase(createOtlpNetworkExportDelegate(options, serializer, metrics, transport));
}

/** Dropped spans and failed exports, logged at most once a minute each with the count since. */
function exportProblems(logger: Logger | undefined) {
  const every = (ms: number, report: (n: number, err?: Error) => void) => {
    let last = Number.NEGATIVE_INFINITY;
    let pending = 0;
    return (n: number, err?: Error) => {
      pending += n;
      const now = performance.now();
      if (now - last < ms) return;
      last = now;
      report(pending, err);
      pending = 0;
    };
  };
  return {
    dropped: every(60_000, (n) =>
      logger?.warn('spans dropped: the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE)', { spans: n }),
    ),
    failed: every(60_000, (n, err) => logger?.warn('span export failed', { spans: n, error: err?.message })),
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

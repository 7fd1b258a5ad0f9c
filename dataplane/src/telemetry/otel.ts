/**
 * OpenTelemetry SDK setup, only when the standard OTLP variables ask for it. With none set, nothing here
 * is loaded on the request path: no tracer, no meter, no exporter (the hooks check one boolean).
 *
 * Traces: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP/HTTP JSON, batched).
 * Metrics: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (every
 * OTEL_METRIC_EXPORT_INTERVAL ms, default 60000). OTEL_SERVICE_NAME names the service (default tollgate).
 * OTEL_SDK_DISABLED=true turns both off.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { MirrorFactory } from './registry.js';

export interface OtelSettings {
  traces: boolean;
  metrics: boolean;
  serviceName: string;
  metricIntervalMs: number;
  /** Full OTLP/HTTP URLs (signal-specific variable, else the base endpoint + /v1/<signal>). */
  tracesUrl: string | undefined;
  metricsUrl: string | undefined;
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
  };
}

export interface Otel {
  readonly tracer: Tracer | undefined;
  readonly mirrors: MirrorFactory | undefined;
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
        new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl }), { scheduledDelayMillis: 1000 }),
      ],
    });
    tracer = tracerProvider.getTracer('tollgate');
  }
  let meterProvider: MeterProvider | undefined;
  let mirrors: MirrorFactory | undefined;
  if (settings.metrics) {
    meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: settings.metricsUrl }),
          exportIntervalMillis: settings.metricIntervalMs,
          exportTimeoutMillis: Math.min(30_000, settings.metricIntervalMs),
        }),
      ],
    });
    const meter = meterProvider.getMeter('tollgate');
    mirrors = {
      counter(name, help) {
        const n = otelName(name);
        const c = meter.createCounter(n.name, { description: help, ...(n.unit ? { unit: n.unit } : {}) });
        return (v, attrs) => c.add(v, attrs);
      },
      histogram(name, help, buckets) {
        const n = otelName(name);
        const h = meter.createHistogram(n.name, {
          description: help,
          ...(n.unit ? { unit: n.unit } : {}),
          advice: { explicitBucketBoundaries: [...buckets] },
        });
        return (v, attrs) => h.record(v, attrs);
      },
    };
  }
  return {
    tracer,
    mirrors,
    async flush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

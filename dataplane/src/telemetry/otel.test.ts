import { otelSettingsFromEnv, startOtel } from './otel.js';

/** The OTel spec's defaults for the batch span processor. */
const SPEC_BATCH = { delayMs: 1000, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMs: 30_000 };

describe('otelSettingsFromEnv', () => {
  test('nothing set: no traces, no metrics, the batch processor defaults of the OTel spec', () => {
    const s = otelSettingsFromEnv({});
    expect(s.traces).toBe(false);
    expect(s.metrics).toBe(false);
    expect(s.batch).toEqual(SPEC_BATCH);
  });

  test('the endpoint turns both signals on; the OTEL_BSP_* variables tune the span batches', () => {
    const s = otelSettingsFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_MAX_QUEUE_SIZE: '8192',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '256',
      OTEL_BSP_EXPORT_TIMEOUT: '5000',
    });
    expect(s.traces && s.metrics).toBe(true);
    expect(s.tracesUrl).toBe('http://collector:4318/v1/traces');
    expect(s.batch).toEqual({ delayMs: 200, maxQueueSize: 8192, maxExportBatchSize: 256, exportTimeoutMs: 5000 });
  });

  test('unusable OTEL_BSP_* values fall back to the defaults instead of breaking export', () => {
    const s = otelSettingsFromEnv({
      OTEL_BSP_MAX_QUEUE_SIZE: '-5',
      OTEL_BSP_SCHEDULE_DELAY: 'soon',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1.5',
    });
    expect(s.batch).toEqual(SPEC_BATCH);
  });

  test('OTEL_SDK_DISABLED wins over an endpoint', () => {
    const s = otelSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' });
    expect(s.traces || s.metrics).toBe(false);
  });
});

describe('startOtel', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('OTEL_TRACES_SAMPLER is honoured by the tracer (e.g. to trace a share of requests)', async () => {
    for (const [sampler, recording] of [
      ['always_off', false],
      ['always_on', true],
    ] as const) {
      process.env.OTEL_TRACES_SAMPLER = sampler;
      const otel = startOtel({
        ...otelSettingsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces' }),
      });
      const span = otel.tracer!.startSpan('chat gpt-4o');
      expect(span.isRecording()).toBe(recording);
      // Not ended: nothing is queued for export, so shutdown does not try the unreachable endpoint.
      await otel.shutdown().catch(() => {});
    }
  });
});

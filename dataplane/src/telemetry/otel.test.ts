import { createServer, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { otelSettingsFromEnv, parseResourceAttributes, startOtel } from './otel.js';
import { SpanKind } from './tracing/span.js';

/** The OTel spec's defaults for the batch span processor, but 128 spans per export (ADR 0032). */
const DEFAULT_BATCH = { delayMs: 1000, maxQueueSize: 2048, maxExportBatchSize: 128, exportTimeoutMs: 30_000 };

describe('otelSettingsFromEnv', () => {
  test('nothing set: no traces, no metrics, the batch processor defaults', () => {
    const s = otelSettingsFromEnv({});
    expect(s.traces).toBe(false);
    expect(s.metrics).toBe(false);
    expect(s.batch).toEqual(DEFAULT_BATCH);
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

  test('span attribute limits: the span variables, else the general ones, else 128 and no length limit', () => {
    expect(otelSettingsFromEnv({}).spanLimits).toEqual({
      attributeCount: 128,
      attributeValueLength: Number.POSITIVE_INFINITY,
    });
    expect(
      otelSettingsFromEnv({ OTEL_ATTRIBUTE_COUNT_LIMIT: '10', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64' }).spanLimits,
    ).toEqual({ attributeCount: 10, attributeValueLength: 64 });
    expect(
      otelSettingsFromEnv({
        OTEL_ATTRIBUTE_COUNT_LIMIT: '10',
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '0',
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64',
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: 'short',
      }).spanLimits,
    ).toEqual({ attributeCount: 0, attributeValueLength: 64 });
  });

  test('unusable OTEL_BSP_* values fall back to the defaults instead of breaking export', () => {
    const s = otelSettingsFromEnv({
      OTEL_BSP_MAX_QUEUE_SIZE: '-5',
      OTEL_BSP_SCHEDULE_DELAY: 'soon',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1.5',
    });
    expect(s.batch).toEqual(DEFAULT_BATCH);
  });

  test('OTEL_RESOURCE_ATTRIBUTES: comma-separated, percent-decoded; malformed pairs skipped', () => {
    expect(parseResourceAttributes(undefined)).toEqual({});
    expect(
      parseResourceAttributes(
        'deployment.environment=prod, k8s.pod.name=tollgate-7d9,team=a%2Cb%3Dc,=x,novalue,bad=%E0%A4%A',
      ),
    ).toEqual({ 'deployment.environment': 'prod', 'k8s.pod.name': 'tollgate-7d9', team: 'a,b=c', bad: '%E0%A4%A' });
    const s = otelSettingsFromEnv({
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,region=eu',
      OTEL_SERVICE_NAME: 'gw',
    });
    expect(s.resourceAttributes).toEqual({ 'service.name': 'ignored', region: 'eu' });
    expect(s.serviceName).toBe('gw');
    expect(otelSettingsFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }).serviceName).toBe('from-attrs');
    expect(otelSettingsFromEnv({}).serviceName).toBe('tollgate');
  });

  test('a batch size above the queue size is cut to the queue size', () => {
    const s = otelSettingsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512' });
    expect(s.batch.maxExportBatchSize).toBe(100);
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
      const otel = startOtel(
        otelSettingsFromEnv({
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces',
          OTEL_TRACES_SAMPLER: sampler,
        }),
      );
      const span = otel.tracer!.startSpan('chat gpt-4o', SpanKind.SERVER, performance.now(), undefined, {});
      expect(span.isRecording()).toBe(recording);
      // Not ended: nothing is queued for export, so shutdown does not try the unreachable endpoint.
      await otel.shutdown().catch(() => {});
    }
  });

  test('spans reach the collector through the OTLP/HTTP transport, with its env headers and gzip', async () => {
    const got: { url?: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        got.push({ url: req.url, headers: req.headers, body: JSON.parse(text) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'authorization=Bearer%20collector-token,x-tenant=blue';
    process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip';
    const otel = startOtel(
      otelSettingsFromEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
        OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=tollgate-0',
      }),
    );
    try {
      const span = otel.tracer!.startSpan('chat m', SpanKind.SERVER, performance.now(), undefined, { n: 1 });
      span.end();
      await otel.flush();
      expect(got).toHaveLength(1);
      expect(got[0]!.url).toBe('/v1/traces');
      expect(got[0]!.headers).toMatchObject({
        authorization: 'Bearer collector-token',
        'x-tenant': 'blue',
        'content-encoding': 'gzip',
        'content-type': 'application/json',
      });
      const rs = (got[0]!.body.resourceSpans as { resource: { attributes: unknown[] }; scopeSpans: unknown[] }[])[0]!;
      expect(rs.resource.attributes).toEqual([
        { key: 'k8s.pod.name', value: { stringValue: 'tollgate-0' } },
        { key: 'service.name', value: { stringValue: 'tollgate' } },
      ]);
      expect(JSON.stringify(rs.scopeSpans)).toContain(`"spanId":"${span.spanId}"`);
    } finally {
      await otel.shutdown();
      server.close();
    }
  });
});

/**
 * A local OTLP/HTTP JSON receiver on loopback: accepts POST /v1/traces and /v1/metrics, keeps what it got.
 * Spans are flattened with their attributes decoded for easy assertions.
 */
import { createServer, type Server } from 'node:http';

export type AttrValue = string | number | boolean | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, AttrValue>;
  status: { code?: number; message?: string } | undefined;
  service: string | undefined;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

function decodeValue(v: OtlpAnyValue): AttrValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return undefined;
}

function decodeAttrs(list: OtlpKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = decodeValue(kv.value);
  return out;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Metric names received over OTLP. */
  readonly metricNames = new Set<string>();
  readonly contentTypes: string[] = [];
  private server: Server | undefined;
  private port = 0;

  static async start(): Promise<OtlpReceiver> {
    const r = new OtlpReceiver();
    r.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        r.contentTypes.push(String(req.headers['content-type']));
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          if (req.url === '/v1/traces') r.addTraces(body);
          else if (req.url === '/v1/metrics') r.addMetrics(body);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
        } catch {
          res.writeHead(400);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => r.server!.listen(0, '127.0.0.1', resolve));
    const addr = r.server.address();
    r.port = typeof addr === 'object' && addr ? addr.port : 0;
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private addTraces(body: Record<string, unknown>): void {
    type RS = {
      resource?: { attributes?: OtlpKeyValue[] };
      scopeSpans?: {
        spans?: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind: number;
          attributes?: OtlpKeyValue[];
          status?: { code?: number; message?: string };
        }[];
      }[];
    };
    for (const rs of (body.resourceSpans as RS[] | undefined) ?? []) {
      const service = decodeAttrs(rs.resource?.attributes)['service.name'] as string | undefined;
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind,
            attributes: decodeAttrs(s.attributes),
            status: s.status,
            service,
          });
    }
  }

  private addMetrics(body: Record<string, unknown>): void {
    type RM = { scopeMetrics?: { metrics?: { name: string }[] }[] };
    for (const rm of (body.resourceMetrics as RM[] | undefined) ?? [])
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) this.metricNames.add(m.name);
  }

  /** Waits until `pred` holds on the received spans (polling; generous timeout). */
  async waitFor(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.spans)) {
      if (Date.now() > end) throw new Error(`OTLP receiver: condition not met; got ${this.spans.length} spans`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

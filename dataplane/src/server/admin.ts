/**
 * The admin HTTP server (`--admin-port`, default 9090; docs/adr/0057): `GET /metrics` in the Prometheus text
 * format, on a port clients are not given (the chart's NetworkPolicy admits only scrapers to it). The API
 * port has no /metrics: it answers 404 there like any unknown path, since the metrics name teams, routes,
 * backends and their cost.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn } from './listener.js';

export const DEFAULT_ADMIN_PORT = 9090;

export interface AdminOptions {
  /** The Prometheus text of the data plane's metrics (GatewayHooks.metricsText). */
  readonly metricsText: () => string;
}

export interface AdminServer {
  readonly server: Server;
  /** Listens; resolves with the bound port (0: a free one). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function createAdminServer(options: AdminOptions): AdminServer {
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 65_000 }, (req, res) =>
    serveAdmin(options, req, res),
  );
  // A scraper's malformed request gets a plain 400; the process never minds.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return {
    server,
    listen: (port, host = '127.0.0.1') => listenOn(server, port, host),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function serveAdmin(options: AdminOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path !== '/metrics') {
    text(res, 404, `no such endpoint: ${path} (the admin port serves /metrics)\n`);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    text(res, 405, `${req.method} is not allowed on /metrics; use GET\n`);
    return;
  }
  let body: string;
  try {
    body = options.metricsText();
  } catch {
    text(res, 500, 'could not encode the metrics\n');
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-type', METRICS_TYPE);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * The API port's HTTP server (docs/adr/0057): node:http options and timeouts, the answer to a connection
 * whose bytes are not a valid request (`clientError`), connection tracking and graceful close. gateway.ts
 * hands it the request handler; nothing here runs per request.
 *
 * Timeouts, each bounded so that a client that sends nothing, or headers one byte at a time, cannot hold a
 * socket (and a file descriptor) for ever:
 * - header timeout: from a connection's (or a request's) first byte to the end of its headers; 408 after
 *   it. Node checks it every `connectionsCheckingInterval`, which we make a fraction of the timeout (Node's
 *   default, 30 s, lets a 10 s limit run to 40 s). A connection that sends no byte at all is covered too.
 * - idle timeout: how long a keep-alive connection may sit between requests.
 * - the body timeout is the gateway's own (BodyRead); responses, long streams included, have no limit here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type ClientFormat, GatewayError, renderError } from '../errors.js';

export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** Above the 60 s idle timeout of common load balancers (AWS ALB, ingress-nginx), so they close first. */
export const DEFAULT_IDLE_TIMEOUT_MS = 65_000;
/** Fits in Kubernetes' default terminationGracePeriodSeconds (30 s) with time left to flush accounting. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;
/** After a 413, how much more of the client's body is read (and dropped) so that it can read the answer. */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

export interface ListenerOptions {
  /** Default DEFAULT_HEADER_TIMEOUT_MS. */
  readonly headerTimeoutMs?: number | undefined;
  /** Default DEFAULT_IDLE_TIMEOUT_MS. */
  readonly idleTimeoutMs?: number | undefined;
  /** How long close() lets running requests (streams) go on; default DEFAULT_SHUTDOWN_GRACE_MS. */
  readonly shutdownGraceMs?: number | undefined;
  /**
   * Called by close() at the end of the grace for each response still running. It should end it in the
   * client's format (a stream: with an error event); a response it leaves running is cut with its socket.
   */
  readonly onGraceEnd?: ((res: ServerResponse) => void) | undefined;
}

/** Node sets `_httpMessage` on a server socket to the response being written (stable since Node 0.x). */
interface HttpSocket extends Socket {
  _httpMessage?: ServerResponse | null;
}

export class Listener {
  readonly server: Server;
  readonly shutdownGraceMs: number;
  private readonly sockets = new Set<Socket>();
  private readonly onGraceEnd: ((res: ServerResponse) => void) | undefined;

  constructor(handler: (req: IncomingMessage, res: ServerResponse) => void, options: ListenerOptions = {}) {
    const headerTimeout = options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
    this.shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.onGraceEnd = options.onGraceEnd;
    this.server = createServer(
      {
        noDelay: true,
        keepAlive: true,
        // Node's whole-request timer: off. The body has the gateway's own timer (408 in the client's
        // format), and a response is never limited here.
        requestTimeout: 0,
        headersTimeout: headerTimeout,
        keepAliveTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headerTimeout / 4))),
      },
      handler,
    );
    const sockets = this.sockets;
    // One function for every socket (`this` is the socket): no closure per connection.
    const untrack = function (this: Socket): void {
      sockets.delete(this);
    };
    this.server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', untrack);
    });
    this.server.on('clientError', answerClientError);
  }

  /** Connections open now (tests and shutdown logs read it). */
  get connections(): number {
    return this.sockets.size;
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return listenOn(this.server, port, host);
  }

  /**
   * Stops accepting, closes idle connections, lets running requests go on for the grace, then ends the
   * ones still running (onGraceEnd) and closes their connections once their answer is out.
   */
  async close(): Promise<void> {
    const server = this.server;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A running response leaves no keep-alive connection behind: `connection: close` when its headers are
    // still to be written, else its connection is closed as soon as it is idle.
    const closeIdle = () => setImmediate(() => server.closeIdleConnections());
    for (const s of this.sockets) {
      const res = (s as HttpSocket)._httpMessage;
      if (res == null || res.writableEnded) continue;
      if (!res.headersSent) res.shouldKeepAlive = false;
      else res.once('finish', closeIdle);
    }
    const grace = setTimeout(() => this.graceEnded(), this.shutdownGraceMs);
    grace.unref();
    await closed;
    clearTimeout(grace);
  }

  private graceEnded(): void {
    for (const s of this.sockets) {
      const res = (s as HttpSocket)._httpMessage;
      if (res == null) {
        s.destroy();
        continue;
      }
      if (!res.writableEnded && this.onGraceEnd !== undefined) {
        try {
          this.onGraceEnd(res);
        } catch {
          // Whatever went wrong, the socket is closed below.
        }
      }
      // The answer ends now or soon (onGraceEnd cancels the upstream; the error event follows): close after
      // it, and cut what is still open a second later.
      if (res.writableEnded) s.end();
      else res.once('finish', () => s.end());
      setTimeout(destroySocket, 1000, s).unref();
    }
  }
}

export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

function destroySocket(s: Socket): void {
  s.destroy();
}

interface ClientErrorLike extends Error {
  code?: string;
  rawPacket?: Buffer;
}

/** What a client whose bytes are not a valid HTTP request gets: a JSON error, then the connection closes. */
function answerClientError(err: ClientErrorLike, socket: Socket): void {
  // A response still being written (a pipelined request failed behind it): raw bytes would corrupt it.
  const running = (socket as HttpSocket)._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || (running != null && !running.writableFinished)) {
    socket.destroy();
    return;
  }
  const ge = clientErrorOf(err);
  const r = renderError(ge, formatOfPacket(err.rawPacket));
  socket.end(
    `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Bad Request'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n${r.body}`,
  );
  setTimeout(destroySocket, 1000, socket).unref();
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** The coded error for a `clientError` (exported for the table test). */
export function clientErrorOf(err: ClientErrorLike): GatewayError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('headers_too_large', 'request headers are larger than the server accepts', {
        cause: err,
      });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new GatewayError('request_timeout', 'the request headers were not received in time', { cause: err });
    default:
      return new GatewayError('bad_http_request', `malformed HTTP request (${err.code ?? 'parse error'})`, {
        cause: err,
      });
  }
}

/** The packet that failed to parse names its path when it got that far: Anthropic's for /v1/messages. */
function formatOfPacket(raw: Buffer | undefined): ClientFormat {
  return raw !== undefined && raw.indexOf(' /v1/messages') !== -1 ? 'anthropic' : 'openai';
}

function halfClose(this: Socket): void {
  this.end();
}

/**
 * Before an early answer (413) to a request whose body is still coming: marks it `connection: close`, and
 * reads and drops the rest of the body, up to `limitBytes` or `timeoutMs`, before the connection closes.
 * Node ends a `connection: close` answer with `socket.destroySoon()` and would so close it as soon as the
 * answer is out, with the client's bytes unread: the kernel then sends
 * RST, which can discard the answer at a client that sends its whole body before it reads. So the answer
 * is followed by FIN only (a half-close; the client can go on sending), and the socket is closed once the
 * body is in (or the client hangs up); past the bounds it is cut.
 */
export function discardBody(req: IncomingMessage, res: ServerResponse, limitBytes: number, timeoutMs: number): void {
  res.setHeader('connection', 'close');
  if (req.complete) return;
  const socket = req.socket;
  socket.destroySoon = halfClose;
  let seen = 0;
  const timer = setTimeout(destroySocket, timeoutMs, socket);
  timer.unref();
  const onData = (c: Buffer): void => {
    seen += c.length;
    if (seen > limitBytes) {
      clearTimeout(timer);
      socket.destroy();
    }
  };
  const done = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    // Node's own destroySoon again: called now if the answer is already out, else by Node when it is.
    Reflect.deleteProperty(socket, 'destroySoon');
    if (res.writableFinished && !socket.destroyed) socket.destroySoon();
  };
  req.on('data', onData);
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

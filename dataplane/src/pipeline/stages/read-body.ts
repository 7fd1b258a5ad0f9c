/**
 * Reading the request body: content-encoding and declared-size checks, the size limit while it arrives,
 * and the body-read timeout; the complete bytes go into the exchange and on to the stages. One object per
 * request holds the state the listeners share.
 */

import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../../errors.js';
import { DISCARD_LIMIT_BYTES, discardBody } from '../../server/listener.js';
import type { Exchange } from '../exchange.js';

/** Where the reader hands over: the body (in `x.raw`), or the refusal to answer with. */
export interface BodySink {
  bodyRead(x: Exchange): void;
  refuse(x: Exchange, err: unknown): void;
}

export interface BodyLimits {
  /** Largest accepted body in bytes. */
  readonly maxBytes: number;
  /** Time allowed from the request's headers to the body's last byte; 0: none. */
  readonly timeoutMs: number;
}

/** Starts reading x's body; the sink hears the outcome exactly once (or never, if the client goes away). */
export function readBody(x: Exchange, limits: BodyLimits, sink: BodySink): void {
  const req = x.req;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    req.resume();
    sink.refuse(
      x,
      new GatewayError(
        'unsupported_media_type',
        `content-encoding ${encoding} is not supported: send the request body uncompressed`,
      ),
    );
    return;
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBytes) {
    tooLarge(x, limits.maxBytes, limits.timeoutMs, sink);
    return;
  }
  new BodyRead(x, sink, limits.maxBytes, limits.timeoutMs);
}

function tooLarge(x: Exchange, max: number, timeoutMs: number, sink: BodySink): void {
  // Keep reading (and dropping) what the client still sends so it can read the answer (server/listener.ts).
  discardBody(x.req, x.res, DISCARD_LIMIT_BYTES, timeoutMs);
  sink.refuse(x, new GatewayError('body_too_large', `request body exceeds the limit of ${max} bytes`));
}

function timedOut(x: Exchange, ms: number, sink: BodySink): void {
  // Drop whatever still comes, answer, and close the connection once the answer is out; a client that
  // keeps the socket open after that is cut a second later.
  x.res.setHeader('connection', 'close');
  x.req.resume();
  x.res.once('finish', () => setTimeout(destroySocket, 1000, x.req).unref());
  sink.refuse(x, new GatewayError('request_timeout', `the request body was not received within ${ms / 1000}s`));
}

function destroySocket(req: IncomingMessage): void {
  req.socket.destroy();
}

function onBodyTimeout(read: BodyRead): void {
  read.timedOut();
}

class BodyRead {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly x: Exchange,
    private readonly sink: BodySink,
    private readonly max: number,
    private readonly timeoutMs: number,
  ) {
    if (timeoutMs > 0) this.timer = setTimeout(onBodyTimeout, timeoutMs, this);
    const req = x.req;
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
  }

  /** The client went away mid-upload (or the socket failed): nobody to answer. */
  private readonly onError = (): void => {
    if (!this.done) this.stop();
  };

  private readonly onData = (c: Buffer): void => {
    if (this.done) return;
    this.size += c.length;
    if (this.size > this.max) {
      this.stop();
      tooLarge(this.x, this.max, this.timeoutMs, this.sink);
      return;
    }
    this.chunks.push(c);
  };

  private readonly onEnd = (): void => {
    if (this.done) return;
    const chunks = this.chunks;
    this.x.raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size);
    this.stop();
    this.sink.bodyRead(this.x);
  };

  timedOut(): void {
    this.timer = undefined;
    if (this.done) return;
    this.stop();
    if (this.x.req.socket.destroyed) return;
    timedOut(this.x, this.timeoutMs, this.sink);
  }

  private stop(): void {
    this.done = true;
    this.chunks.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const req = this.x.req;
    req.off('data', this.onData);
    req.off('end', this.onEnd);
  }
}

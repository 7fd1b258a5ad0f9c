/**
 * Raw-socket clients for the chaos suite: what a misbehaving or hostile client does at the TCP level, with
 * every wait tied to a socket event (close, data), never to a fixed sleep.
 */
import { connect, type Socket } from 'node:net';

export interface RawClient {
  readonly sock: Socket;
  /** Resolves when the socket is closed (by either side), with the time it took since connect. */
  readonly closed: Promise<number>;
  /** Everything received so far (latin1). */
  received(): string;
  /** Resolves once `re` matches what was received. */
  waitFor(re: RegExp): Promise<string>;
  /** The socket failed with a reset (or other error) rather than closing cleanly. */
  error(): NodeJS.ErrnoException | undefined;
}

export function rawClient(port: number, options: { paused?: boolean } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const sock = connect(port, '127.0.0.1');
    let received = '';
    let err: NodeJS.ErrnoException | undefined;
    const waiters: Array<{ re: RegExp; resolve: (s: string) => void }> = [];
    sock.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.re.test(received)) waiters.splice(i, 1)[0]!.resolve(received);
      }
    });
    if (options.paused) sock.pause();
    sock.on('error', (e: NodeJS.ErrnoException) => {
      err = e;
    });
    const closed = new Promise<number>((r) => sock.once('close', () => r(performance.now() - started)));
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve({
        sock,
        closed,
        received: () => received,
        error: () => err,
        waitFor: (re) =>
          re.test(received)
            ? Promise.resolve(received)
            : new Promise<string>((r, j) => {
                waiters.push({ re, resolve: r });
                void closed.then(() => j(new Error(`closed before ${re}: ${received.slice(0, 300)}`)));
              }),
      });
    });
    sock.once('error', reject);
  });
}

/** The JSON body of a raw HTTP/1.1 answer (content-length framed). */
export function jsonBody(raw: string): unknown {
  const i = raw.indexOf('\r\n\r\n');
  return JSON.parse(raw.slice(i + 4));
}

/**
 * A real redis-server (Debian's /usr/bin/redis-server) for tests: loopback only, a free port, no
 * persistence, a temp dir; `stop()` kills it and removes the dir. `start()` again brings it back on the
 * same port (for store-outage tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts (again) on the same port. */
  start(): Promise<void>;
  /** Stops the server (SIGKILL after a grace period); start() can bring it back. */
  stop(): Promise<void>;
  /** Stops and removes the temp dir. */
  dispose(): Promise<void>;
  /** Sends a signal to the running server (SIGSTOP / SIGCONT: a stall without a disconnect). */
  signal(signal: NodeJS.Signals): void;
}

export const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'));
  const server = await serveRedis({ command: REDIS_BIN, prefix: [], dir, label: 'redis-server' });
  return {
    ...server,
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisProcess {
  /** The program to run: redis-server, or `chroot` with `prefix` naming the root and redis-server. */
  readonly command: string;
  readonly prefix: readonly string[];
  /** Its working dir (as the server sees it). */
  readonly dir: string;
  /** For error messages. */
  readonly label: string;
}

/**
 * A redis-server process on a free loopback port, no persistence: started now, `stop()` kills it (SIGKILL
 * after a grace period), `start()` brings it back on the same port; `dispose` only stops it.
 */
export async function serveRedis(p: RedisProcess): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (child && child.exitCode === null) {
        resolve(); // already running
        return;
      }
      const args = [...p.prefix, '--port', String(port), '--bind', '127.0.0.1', '--save', ''];
      args.push('--appendonly', 'no', '--dir', p.dir, '--protected-mode', 'yes', '--daemonize', 'no');
      // A chroot execs redis-server: the child's pid is the server's, so signals reach it.
      const proc = spawn(p.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let out = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${p.label} did not start within 10s:\n${out}`));
      }, 10_000);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        if (child === proc) child = undefined;
        reject(new Error(`${p.label} exited with ${code}:\n${out}`));
      });
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null) {
        resolve();
        return;
      }
      const kill = setTimeout(() => proc.kill('SIGKILL'), 3000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill('SIGTERM');
    });

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    signal(sig) {
      if (!child || child.exitCode !== null) throw new Error(`${p.label} is not running`);
      child.kill(sig);
    },
    dispose: stop,
  };
}

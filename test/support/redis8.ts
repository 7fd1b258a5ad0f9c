/**
 * A real Redis 8 (vector sets: VADD/VSIM) for the semantic cache tests: Debian trixie's redis-server, run as
 * `chroot <root> redis-server` on loopback (the machine's Debian 12 ships redis 7, and trixie's binary needs
 * a newer glibc). scripts/ensure-redis8.sh builds the root once, cached by content under
 * ~/.cache/tollgate/redis8 (ADR 0077); `REDIS8_ROOT` points at a root built elsewhere. Same shape as
 * test/support/redis.ts: `stop()` kills the server, `start()` brings it back on the same port.
 *
 * It never skips: when the root cannot be built or the server has no vector sets, startRedis8 throws with
 * the reason (the test fails), under CI or not.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { RedisServer } from './redis.js';

export type { RedisServer } from './redis.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'ensure-redis8.sh');

let root: string | undefined;

/** The trixie root holding redis-server 8 (built on first use; later calls are a file check). */
export function redis8Root(): string {
  if (root !== undefined) return root;
  const given = process.env.REDIS8_ROOT;
  if (given !== undefined && given !== '') {
    if (!existsSync(join(given, 'usr/bin/redis-server')))
      throw new Error(`REDIS8_ROOT=${given} holds no usr/bin/redis-server`);
    root = given;
    return given;
  }
  let out: string;
  try {
    out = execFileSync('bash', [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`cannot provide Redis 8 for the semantic cache tests (scripts/ensure-redis8.sh):\n${stderr}`, {
      cause: err,
    });
  }
  const lines = out.trim().split('\n');
  root = lines[lines.length - 1]!;
  return root;
}

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

export async function startRedis8(): Promise<RedisServer> {
  const dir = redis8Root();
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (child && child.exitCode === null) {
        resolve();
        return;
      }
      const args = [dir, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', ''];
      args.push('--appendonly', 'no', '--dir', '/tmp', '--protected-mode', 'yes', '--daemonize', 'no');
      // chroot execs redis-server: the child's pid is the server's, so signals reach it.
      const proc = spawn('chroot', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let out = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`redis-server 8 (chroot ${dir}) did not start within 10s:\n${out}`));
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
        reject(new Error(`redis-server 8 (chroot ${dir}) exited with ${code}:\n${out}`));
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
  const url = `redis://127.0.0.1:${port}`;
  await assertVectorSets(url).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return {
    port,
    url,
    start,
    stop,
    signal(sig) {
      if (!child || child.exitCode !== null) throw new Error('redis-server 8 is not running');
      child.kill(sig);
    },
    dispose: stop,
  };
}

/** VADD and VSIM answer on the server at url (a probe key, removed after). */
async function assertVectorSets(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    await r.call('VADD', 'tollgate:probe', 'VALUES', '2', '1', '0', 'a');
    const got = await r.call('VSIM', 'tollgate:probe', 'VALUES', '2', '1', '0', 'COUNT', '1');
    await r.del('tollgate:probe');
    if (!Array.isArray(got) || got[0] !== 'a') throw new Error(`VSIM answered ${JSON.stringify(got)}`);
  } catch (err) {
    throw new Error(`the Redis 8 at ${url} has no working vector sets`, { cause: err });
  } finally {
    r.disconnect();
  }
}

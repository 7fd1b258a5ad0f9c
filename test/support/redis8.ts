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
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { type RedisServer, serveRedis } from './redis.js';

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

export async function startRedis8(): Promise<RedisServer> {
  const dir = redis8Root();
  const server = await serveRedis({
    command: 'chroot',
    prefix: [dir, 'redis-server'],
    dir: '/tmp',
    label: `redis-server 8 (chroot ${dir})`,
  });
  await assertVectorSets(server.url).catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  return server;
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

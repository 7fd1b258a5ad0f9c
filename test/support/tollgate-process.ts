/**
 * The real `tollgate run` as a user starts it (bin/tollgate → dist/, so `npm run build` first): spawned on a
 * free port, its stdout (the access log) and stderr (other logs) collected, ready once it logs that it
 * listens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface TollgateRun {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything written so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Starts `tollgate run -f <dir> --port 0 --host 127.0.0.1 ...args` and waits until it listens. */
export async function startTollgateRun(
  dir: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
  /** A command that runs the gateway (its path and arguments follow), e.g. a shell that lowers `ulimit -n` first. */
  wrapper: readonly string[] = [],
): Promise<TollgateRun> {
  if (!existsSync(join(root, 'dist', 'bin', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const command = [...wrapper, join(root, 'bin', 'tollgate')];
  const child = spawn(
    command[0]!,
    [...command.slice(1), 'run', '-f', dir, '--port', '0', '--admin-port', '0', '--host', '127.0.0.1', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TOLLGATE_LOG_LEVEL: 'info', ...env },
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = /"msg":"tollgate run listening"[^\n]*"port":(\d+)/.exec(err);
    if (m) return { child, port: Number(m[1]), stdout: () => out, stderr: () => err, exited };
    if (child.exitCode !== null || Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`tollgate run did not start: ${err.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

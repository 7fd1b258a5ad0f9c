/** Process helpers for the benchmark: spawn with captured output, wait for readiness, RSS, clean stop. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last lines of stdout+stderr, for error messages. */
  tail(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

const live = new Set<Proc>();
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes from captured output
const ANSI_COLOR = /\x1b\[[0-9;]*m/g;

export function startProc(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Proc {
  // Own process group, so stop() also ends the workers a server forks (uvicorn, …).
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let exited = false;
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      out += `\n${err.message}`;
      exited = true;
      resolve();
    });
  });
  const p: Proc = {
    child,
    pid: child.pid ?? -1,
    tail: () => out.replace(ANSI_COLOR, '').trim().split('\n').slice(-6).join(' | '),
    exited: () => exited,
    async stop() {
      live.delete(p);
      if (exited || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 3000);
      await exit;
      clearTimeout(t);
    },
  };
  live.add(p);
  return p;
}

/** Stops every process this benchmark started (on exit or Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or the deadline passes; fails early if the process died. */
export async function waitFor(what: string, proc: Proc | undefined, timeoutMs: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  while (Date.now() < deadline) {
    if (proc?.exited()) throw new Error(`${what} exited: ${proc.tail() || 'no output'}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(
    `${what} not ready after ${timeoutMs / 1000}s${lastErr ? ` (${lastErr})` : ''}${proc ? `: ${proc.tail()}` : ''}`,
  );
}

/** VmRSS in bytes of a process and all its descendants (a server may fork workers). */
export function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += rssOf(p);
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p !== '' ? p : undefined;
}

/** Runs a command to completion (installs); resolves with its exit code and output tail. */
export function runToEnd(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (b: Buffer) => {
      out = (out + b.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.once('error', (err) => {
      clearTimeout(t);
      resolve({ code: -1, out: err.message });
    });
    child.once('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, out });
    });
  });
}

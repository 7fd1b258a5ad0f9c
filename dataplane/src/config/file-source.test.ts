import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { createLogger } from '../log.js';
import { type AppliedConfig, FileSource } from './file-source.js';
import { LoadError, loadFiles } from './load-files.js';

const provider = (name: string, type = 'openai') => `apiVersion: tollgate.dev/v1alpha1
kind: LLMProvider
metadata: { name: ${name} }
spec: { type: ${type} }
`;
const route = (name: string, model: string, extra = '') => `apiVersion: tollgate.dev/v1alpha1
kind: LLMRoute
metadata: { name: ${name} }
spec:
  models: ["${model}"]
  backends: [{ provider: p }]
${extra}`;

/** Write to a temp file and rename it over the target, as editors' safe save does. */
function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-fs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadFiles', () => {
  it('reads .yaml and .yml files of a directory in name order, not subdirectories unless recursive', async () => {
    writeFileSync(join(dir, 'b.yml'), route('r', 'm'));
    writeFileSync(join(dir, 'a.yaml'), provider('p'));
    writeFileSync(join(dir, 'notes.txt'), 'not yaml: [');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'c.yaml'), provider('q', 'anthropic'));
    const flat = await loadFiles([dir]);
    expect(flat.files.map((f) => f.slice(dir.length + 1))).toEqual(['a.yaml', 'b.yml']);
    expect(flat.snapshot.providers.map((p) => p.metadata.name)).toEqual(['p']);
    expect(flat.snapshot.routes).toHaveLength(1);
    const deep = await loadFiles([dir], { recursive: true });
    expect(deep.snapshot.providers.map((p) => p.metadata.name)).toEqual(['p', 'q']);
  });

  it('accepts single files and several -f paths', async () => {
    writeFileSync(join(dir, 'p.yaml'), `${provider('p')}---\n${provider('p2', 'anthropic')}`);
    writeFileSync(join(dir, 'r.yaml'), route('r', 'm'));
    const res = await loadFiles([join(dir, 'p.yaml'), join(dir, 'r.yaml')]);
    expect(res.snapshot.providers).toHaveLength(2);
    expect(res.origins.get('LLMProvider default/p2')).toBe(`${join(dir, 'p.yaml')}:6`);
  });

  it('fails with file:line on a YAML syntax error', async () => {
    writeFileSync(join(dir, 'bad.yaml'), `${provider('p')}---\nkind: LLMRoute\nspec:\n  models: [a, b\n`);
    await expect(loadFiles([dir])).rejects.toThrow(/bad\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('fails on unusable metadata, naming the field', async () => {
    writeFileSync(join(dir, 'meta.yaml'), provider('Not_A_DNS_Name'));
    await expect(loadFiles([dir])).rejects.toThrow(
      /meta\.yaml:1: LLMProvider: metadata\.name: must be a lowercase DNS name/,
    );
  });

  it('fails on a path that does not exist', async () => {
    await expect(loadFiles([join(dir, 'nope')])).rejects.toBeInstanceOf(LoadError);
  });

  it('reads stringData and numeric values of a Secret as strings', async () => {
    writeFileSync(
      join(dir, 's.yaml'),
      'apiVersion: v1\nkind: Secret\nmetadata: { name: s }\nstringData: { key: 12345 }\n',
    );
    const res = await loadFiles([dir]);
    expect(res.snapshot.secrets[0]!.stringData).toEqual({ key: '12345' });
  });
});

/** Resolves when `pred` holds, polling; rejects after `ms`. */
async function until(pred: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('FileSource', () => {
  jest.setTimeout(15_000);
  let source: FileSource | undefined;
  afterEach(() => source?.close());

  function start(paths: string[], pollMs = 0, fsWatch = true, settleMs?: number) {
    const applied: AppliedConfig[] = [];
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
    source = new FileSource({
      paths,
      requireKeys: false,
      logger,
      onConfig: (a) => applied.push(a),
      pollMs,
      fsWatch,
      ...(settleMs !== undefined ? { settleMs } : {}),
    });
    return { applied, logs, source };
  }

  it('loads, then applies a change made to a watched file', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}`);
    const { applied, source } = start([file]);
    const first = await source.start();
    expect(first.config.version).toBe(1);
    expect(first.config.routes.map((r) => r.name)).toEqual(['r1']);
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}---\n${route('r2', 'm2')}`);
    await until(() => applied.length === 2);
    expect(applied[1]!.config.version).toBe(2);
    expect(applied[1]!.config.routes.map((r) => r.name)).toEqual(['r1', 'r2']);
  });

  it('sees a file added to a watched directory', async () => {
    writeFileSync(join(dir, 'a.yaml'), provider('p'));
    const { applied, source } = start([dir]);
    await source.start();
    writeFileSync(join(dir, 'b.yaml'), route('r', 'm'));
    await until(() => applied.length === 2);
    expect(applied[1]!.config.routes).toHaveLength(1);
  });

  it('keeps the last good config on a syntax error and logs file:line', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}`);
    const { applied, logs, source } = start([file]);
    await source.start();
    writeFileSync(file, `${provider('p')}---\nkind: [\n`);
    expect(await source.reload()).toBe(false);
    expect(applied).toHaveLength(1);
    expect(source.config!.routes.map((r) => r.name)).toEqual(['r1']);
    const err = logs.find((l) => l.level === 'error');
    expect(String(err?.err)).toMatch(/config\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('keeps the previous version of a resource whose edit is rejected, and applies the rest', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}`);
    const { applied, logs, source } = start([file]);
    await source.start();
    // r1 gets an invalid timeout; r2 is new and valid.
    writeFileSync(
      file,
      `${provider('p')}---\n${route('r1', 'm1-renamed', '  timeout: soon\n')}---\n${route('r2', 'm2')}`,
    );
    expect(await source.reload()).toBe(true);
    const cfg = applied.at(-1)!.config;
    expect(cfg.routes.map((r) => [r.name, r.models[0]!.name])).toEqual([
      ['r1', 'm1'],
      ['r2', 'm2'],
    ]);
    const warn = logs.find((l) => l.msg === 'change to a resource rejected; still serving its previous version');
    expect(warn).toMatchObject({ resource: 'LLMRoute default/r1', reason: 'Invalid' });
    expect(String(warn?.message)).toContain('spec.timeout');
    // Removing the resource removes it, even though its last edit was rejected (written atomically: an
    // in-place write that removes something waits for the file to settle, tested below).
    writeAtomic(file, `${provider('p')}---\n${route('r2', 'm2')}`);
    expect(await source.reload()).toBe(true);
    expect(applied.at(-1)!.config.routes.map((r) => r.name)).toEqual(['r2']);
  });

  it('leaves out a new invalid resource and serves the others', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `${provider('p')}---\n${route('bad', 'm', '  retry: { attempts: 99 }\n')}---\n${route('ok', 'n')}`,
    );
    const { logs, source } = start([file]);
    const first = await source.start();
    expect(first.config.routes.map((r) => r.name)).toEqual(['ok']);
    expect(logs.some((l) => l.resource === 'LLMRoute default/bad' && l.reason === 'Invalid')).toBe(true);
  });

  it('fails to start when the first load fails', async () => {
    writeFileSync(join(dir, 'x.yaml'), 'a: [');
    const { source } = start([dir]);
    await expect(source.start()).rejects.toThrow(/x\.yaml:1/);
  });

  it('does not bump the version when the content did not change', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, provider('p'));
    const { applied, source } = start([file]);
    await source.start();
    writeFileSync(file, `# a comment only\n${provider('p')}`);
    expect(await source.reload()).toBe(false);
    expect(applied).toHaveLength(1);
  });

  it('the periodic stat check catches changes', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, provider('p'));
    // fs.watch off: only the stat fallback can notice the change.
    const { applied, source } = start([file], 50, false);
    await source.start();
    writeFileSync(file, `${provider('p')}---\n${route('r', 'm')}`);
    await until(() => applied.length === 2);
    expect(applied[1]!.config.routes).toHaveLength(1);
  });

  const key = (name: string, value: string) => `apiVersion: v1
kind: Secret
metadata: { name: ${name}, labels: { tollgate.dev/api-key: "true" } }
stringData: { key: ${value} }
`;

  it('refuses an empty file (what a reader sees right after a truncation) and keeps the last good config', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}`);
    const { applied, logs, source } = start([file]);
    await source.start();
    for (const text of ['', '\n  \n', '# only a comment\n', '---\n']) {
      writeFileSync(file, text);
      expect(await source.reload()).toBe(false);
      expect(source.config!.routes.map((r) => r.name)).toEqual(['r1']);
    }
    expect(applied).toHaveLength(1);
    const errs = logs.filter((l) => l.level === 'error').map((l) => String(l.err));
    expect(errs).toHaveLength(4);
    for (const e of errs) expect(e).toMatch(/config\.yaml: holds no document .* delete the file/);
  });

  it('refuses to start on an empty file', async () => {
    writeFileSync(join(dir, 'empty.yaml'), '');
    const { source } = start([dir]);
    await expect(source.start()).rejects.toThrow(/empty\.yaml: holds no document/);
  });

  it('applies an in-place write that loses the key Secret only after the file has settled, and logs it at error', async () => {
    const file = join(dir, 'config.yaml');
    const full = `${provider('p')}---\n${route('r1', 'm1')}---\n${key('k', 'tg-unit-key-1')}`;
    writeFileSync(file, full);
    const { applied, logs, source } = start([file], 0, true, 400);
    await source.start();
    expect(source.config!.apiKeys).toHaveLength(1);
    // Cut just before the key Secret (a valid file on its own): held, the keyed config keeps serving.
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}---\n`);
    expect(await source.reload()).toBe(false);
    expect(source.config!.apiKeys).toHaveLength(1);
    expect(logs.some((l) => l.level === 'warn' && String(l.msg).includes('once the files stop changing'))).toBe(true);
    // The writer finishes before the delay is up: nothing was ever applied without the key.
    writeFileSync(file, full);
    expect(await source.reload()).toBe(false);
    expect(applied).toHaveLength(1);
    // A real removal written in place: applied once it has stayed put for the delay, at error level.
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}`);
    await source.reload();
    await until(() => applied.length === 2);
    expect(applied[1]!.config.apiKeys).toHaveLength(0);
    const opened = logs.find((l) => l.msg === 'reloaded config has no API keys: the gateway is now OPEN to anyone');
    expect(opened).toMatchObject({ level: 'error', opens: true, apiKeys: ['default/k'] });
  });

  it('applies a removal at once when the file was replaced atomically (rename)', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `${provider('p')}---\n${route('r1', 'm1')}---\n${key('k', 'tg-unit-key-1')}---\n${key('k2', 'tg-unit-key-2')}`,
    );
    const { applied, logs, source } = start([file], 0, true, 60_000);
    await source.start();
    writeAtomic(file, `${provider('p')}---\n${route('r1', 'm1')}---\n${key('k', 'tg-unit-key-1')}`);
    expect(await source.reload()).toBe(true);
    expect(applied[1]!.config.apiKeys.map((k) => k.id)).toEqual(['default/k']);
    expect(logs.find((l) => l.msg === 'reloaded config removes API keys')).toMatchObject({
      level: 'error',
      apiKeys: ['default/k2'],
      opens: false,
    });
  });

  it('keeps serving the last good version of a route edited to name a missing provider', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1')}`);
    const { applied, logs, source } = start([file]);
    await source.start();
    writeFileSync(file, `${provider('p')}---\n${route('r1', 'm1').replace('provider: p', 'provider: nope')}`);
    expect(await source.reload()).toBe(false); // the served config is what it was
    expect(applied).toHaveLength(1);
    expect(source.config!.routes[0]!.backends.map((b) => b.provider)).toEqual(['default/p']);
    const warn = logs.find((l) => l.msg === 'change to a resource rejected; still serving its previous version');
    expect(warn).toMatchObject({
      resource: 'LLMRoute default/r1',
      condition: 'ResolvedRefs',
      reason: 'BackendNotFound',
    });
    expect(String(warn?.message)).toContain('LLMProvider default/nope not found');
  });

  it('tells a file that still says retry.on to write retryOn', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `${provider('p')}---\n${route('old', 'm', '  retry:\n    on: ["429"]\n')}---\n${route('ok', 'n')}`,
    );
    const { logs, source } = start([file]);
    const first = await source.start();
    expect(first.config.routes.map((r) => r.name)).toEqual(['ok']);
    const warn = logs.find((l) => l.resource === 'LLMRoute default/old' && l.condition === 'Accepted');
    expect(warn).toMatchObject({ msg: 'resource not fully served', reason: 'Invalid' });
    expect(String(warn?.message)).toContain('spec.retry.on: renamed to spec.retry.retryOn: write `retryOn:');
  });
});

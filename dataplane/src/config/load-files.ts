/**
 * Reads the YAML that `tollgate run -f` names into a ResourceSnapshot. Files or directories; a directory
 * contributes its `.yaml`/`.yml` files (not its subdirectories unless `recursive`), in name order.
 * Multi-document YAML. Kinds LLMProvider/LLMRoute/QuotaPolicy (tollgate.dev/v1alpha1) and v1 Secret are
 * read; other kinds are reported and ignored. A YAML syntax error, or a document whose metadata is not
 * usable, fails the whole load with file:line (the caller keeps its last good config). So does a file
 * with no document at all (empty, or comments only): an empty file is what a reader sees right after a
 * writer truncated it, so it is taken for a write under way, not for "no resources" (ADR 0054).
 * Each file is stat'ed before and after it is read; if it moved in between, the load fails with
 * FileChangingError and the caller reads again once the writer is done.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import {
  GROUP_VERSION,
  ObjectMeta,
  type RawResource,
  type RawSecret,
  RESOURCE_KINDS,
  type ResourceKind,
  type ResourceSnapshot,
} from './resources.js';
import { formatZodError } from './translate.js';

export interface IgnoredDocument {
  file: string;
  line: number;
  kind: string;
  reason: string;
}

export interface LoadResult {
  snapshot: ResourceSnapshot;
  /** The files read, in order. */
  files: string[];
  /** Documents that were skipped (unknown kind, wrong apiVersion, duplicate name), with why. */
  ignored: IgnoredDocument[];
  /** Where each resource came from: `Kind namespace/name` → `file:line` (for log messages). */
  origins: Map<string, string>;
  /** What each file was when it was read (for telling an atomic replacement from an in-place write). */
  fingerprints: FileFingerprint[];
}

export interface FileFingerprint {
  file: string;
  /** Inode: a new one means the file was replaced (rename), the same one that it was written in place. */
  ino: number;
  size: number;
  mtimeMs: number;
  /** sha256 of the content read. */
  digest: string;
}

export class LoadError extends Error {
  override readonly name: string = 'LoadError';
}

/** A file changed while it was being read: not an error in the file, read it again. */
export class FileChangingError extends LoadError {
  override readonly name = 'FileChangingError';
}

export interface LoadOptions {
  /** Descend into subdirectories of a directory given with -f. Default false (like kubectl without -R). */
  recursive?: boolean;
}

const YAML_EXT = /\.ya?ml$/i;

/** Expands -f paths into the YAML files they name (sorted within each directory). */
export async function listFiles(paths: readonly string[], opts: LoadOptions = {}): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (opts.recursive) await walk(full);
      } else if (YAML_EXT.test(e.name) && !e.name.startsWith('.')) {
        out.push(full);
      }
    }
  };
  for (const p of paths) {
    const abs = resolve(p);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(abs);
    } catch {
      throw new LoadError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) await walk(abs);
    else out.push(abs);
  }
  return [...new Set(out)];
}

export async function loadFiles(paths: readonly string[], opts: LoadOptions = {}): Promise<LoadResult> {
  const files = await listFiles(paths, opts);
  const acc = newAccumulator();
  const fingerprints: FileFingerprint[] = [];
  for (const file of files) {
    let bytes: Buffer;
    let before: Awaited<ReturnType<typeof stat>>;
    let after: Awaited<ReturnType<typeof stat>>;
    try {
      before = await stat(file);
      bytes = await readFile(file);
      after = await stat(file);
    } catch (err) {
      throw new LoadError(`${file}: cannot read: ${(err as Error).message}`);
    }
    if (
      before.ino !== after.ino ||
      before.size !== after.size ||
      before.mtimeMs !== after.mtimeMs ||
      bytes.length !== after.size
    ) {
      throw new FileChangingError(`${file}: changed while it was being read`);
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    fingerprints.push({ file, ino: after.ino, size: after.size, mtimeMs: after.mtimeMs, digest });
    addDocuments(acc, bytes.toString('utf8'), file);
  }
  return { snapshot: acc.snapshot, files, ignored: acc.ignored, origins: acc.origins, fingerprints };
}

interface Accumulator {
  snapshot: ResourceSnapshot;
  ignored: IgnoredDocument[];
  origins: Map<string, string>;
}

function newAccumulator(): Accumulator {
  return {
    snapshot: { providers: [], routes: [], quotaPolicies: [], secrets: [] },
    ignored: [],
    origins: new Map(),
  };
}

/** Parses one file's text (pure; exported for tests and golden files). Throws LoadError on bad YAML. */
export function parseDocuments(text: string, file = '<input>'): LoadResult {
  const acc = newAccumulator();
  addDocuments(acc, text, file);
  return { snapshot: acc.snapshot, files: [file], ignored: acc.ignored, origins: acc.origins, fingerprints: [] };
}

function addDocuments(acc: Accumulator, text: string, file: string): void {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // An empty stream parses to an EmptyStream, not an array; either way a file with no document is refused.
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const pos = lineCounter.linePos(err.pos[0]);
      throw new LoadError(
        `${file}:${pos.line}:${pos.col}: YAML syntax error: ${safeYamlMessage(err.message, err.code)}`,
      );
    }
  }
  if (!list.some((doc) => doc.contents !== null && !isNullScalar(doc.contents))) {
    throw new LoadError(
      `${file}: holds no document (it is empty or only comments); an empty file is taken for a write cut short and refused. To remove its resources, delete the file`,
    );
  }
  for (const doc of list) {
    const line = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]).line : 1;
    const where = `${file}:${line}`;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // e.g. an alias without its anchor; the library's message names the alias.
      throw new LoadError(`${where}: ${safeYamlMessage(err instanceof Error ? err.message : String(err))}`);
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new LoadError(`${where}: a document must be a mapping with apiVersion, kind and metadata`);
    }
    const obj = value as Record<string, unknown>;
    const kind = typeof obj.kind === 'string' ? obj.kind : '';
    const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
    const ignore = (reason: string) => acc.ignored.push({ file, line, kind: kind || '(none)', reason });
    if (kind === '') {
      ignore('document has no kind');
      continue;
    }
    const isOurs = (RESOURCE_KINDS as readonly string[]).includes(kind);
    if (isOurs && apiVersion !== GROUP_VERSION) {
      ignore(`${kind} needs apiVersion ${GROUP_VERSION}, got "${apiVersion}"`);
      continue;
    }
    if (kind === 'Secret' && apiVersion !== 'v1') {
      ignore(`Secret needs apiVersion v1, got "${apiVersion}"`);
      continue;
    }
    if (!isOurs && kind !== 'Secret') {
      ignore(`kind ${kind} is not read by tollgate run (it reads LLMProvider, LLMRoute, QuotaPolicy and v1 Secret)`);
      continue;
    }
    const meta = ObjectMeta.safeParse(obj.metadata ?? {});
    if (!meta.success) {
      throw new LoadError(`${where}: ${kind}: ${formatZodError(meta.error, 'metadata')}`);
    }
    const key = `${kind} ${meta.data.namespace}/${meta.data.name}`;
    const earlier = acc.origins.get(key);
    if (earlier !== undefined) {
      ignore(`${key} is already defined at ${earlier}; the first definition is used`);
      continue;
    }
    acc.origins.set(key, where);
    if (kind === 'Secret') {
      acc.snapshot.secrets.push(toSecret(obj, meta.data, where));
    } else {
      const res: RawResource = { apiVersion, kind: kind as ResourceKind, metadata: meta.data, spec: obj.spec };
      if (kind === 'LLMProvider') acc.snapshot.providers.push(res);
      else if (kind === 'LLMRoute') acc.snapshot.routes.push(res);
      else acc.snapshot.quotaPolicies.push(res);
    }
  }
}

/** `---` followed by nothing, or `~`/`null`: a document that holds no value. */
function isNullScalar(node: unknown): boolean {
  return isScalar(node) && (node.value === null || node.value === undefined);
}

function toSecret(obj: Record<string, unknown>, metadata: ObjectMeta, where: string): RawSecret {
  const secret: RawSecret = { apiVersion: 'v1', kind: 'Secret', metadata };
  for (const field of ['data', 'stringData'] as const) {
    const v = obj[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw new LoadError(`${where}: Secret ${field} must be a mapping`);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      // YAML reads `key: 12345` as a number; the API server would take it as the string.
      if (typeof val === 'string') out[k] = val;
      else if (typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
      else throw new LoadError(`${where}: Secret ${field}.${k} must be a string`);
    }
    secret[field] = out;
  }
  return secret;
}

/**
 * The yaml library's message without what it quotes from the file: the line at fault may be a Secret's
 * stringData, and load errors are logged. Its messages put the quoted source after `: ` (unexpected tokens,
 * block scalar headers, tags, aliases) or, for escapes and tags, at the end; file:line:col says where.
 */
function safeYamlMessage(message: string, code?: string): string {
  if (code === 'BAD_DQ_ESCAPE') return 'Invalid escape sequence in a double-quoted string';
  if (code === 'TAG_RESOLVE_FAILED') return 'Could not resolve a tag';
  const first = message.split('\n')[0] ?? message;
  const colon = first.indexOf(': ');
  return colon === -1 ? first : first.slice(0, colon);
}

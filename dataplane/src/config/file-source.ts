/**
 * Config from files for `tollgate run`: load → translate → validate → hand over, again on every change.
 *
 * Change detection: fs.watch on every -f path (directories, and the parent directory of each file so that
 * editors that save by rename are seen), debounced (~100 ms), plus a periodic stat check of every file as
 * a fallback for file systems where fs.watch is unreliable (network mounts, some containers).
 *
 * What an invalid change does:
 * - a load error (YAML syntax, unusable metadata, unreadable file): nothing changes; the last good config
 *   keeps being served and the error is logged with file:line.
 * - a resource whose new spec is rejected (Accepted=False) while an earlier version of it was accepted:
 *   that earlier version keeps being served (as the API server would refuse an invalid update), the rest
 *   of the change is applied, and the rejection is logged.
 * - a new resource that is rejected is left out (one invalid resource never blocks the others).
 */
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { GatewayConfig } from '../../../contract/gateway-config.js';
import type { Logger } from '../log.js';
import { type IgnoredDocument, listFiles, loadFiles } from './load-files.js';
import type { RawResource, ResourceSnapshot } from './resources.js';
import { type ResourceStatus, translate } from './translate.js';

export interface AppliedConfig {
  config: GatewayConfig;
  statuses: ResourceStatus[];
  files: string[];
  ignored: IgnoredDocument[];
}

export interface FileSourceOptions {
  paths: readonly string[];
  recursive?: boolean;
  requireKeys: boolean;
  logger: Logger;
  /** Called with every new config (never with an invalid one); must swap it in atomically. */
  onConfig: (applied: AppliedConfig) => void;
  debounceMs?: number;
  /** Interval of the stat fallback; 0 turns it off. Default 2000 ms. */
  pollMs?: number;
  /** Use fs.watch (default true); false leaves only the periodic stat check. */
  fsWatch?: boolean;
}

type Kind = RawResource['kind'];
const keyOf = (kind: string, ns: string, name: string) => `${kind} ${ns}/${name}`;

export class FileSource {
  private readonly opts: Required<Omit<FileSourceOptions, 'recursive'>> & { recursive: boolean };
  private readonly watchers: FSWatcher[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private version = 0;
  private current: AppliedConfig | undefined;
  private signature = '';
  /** The last accepted version of every resource, kept to stand in for a rejected edit. */
  private lastAccepted = new Map<string, RawResource>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(opts: FileSourceOptions) {
    this.opts = { debounceMs: 100, pollMs: 2000, recursive: false, fsWatch: true, ...opts };
  }

  get config(): GatewayConfig | undefined {
    return this.current?.config;
  }

  /** First load: throws when the files cannot be loaded (the caller exits with a message). Then watches. */
  async start(): Promise<AppliedConfig> {
    await this.load(true);
    await this.watch();
    return this.current!;
  }

  /** Reloads now (also what a change triggers). Resolves true when a new config was applied. */
  async reload(): Promise<boolean> {
    const before = this.current?.config.version;
    await this.schedule();
    return this.current?.config.version !== before;
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.splice(0)) w.close();
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
  }

  private schedule(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.load(false).catch((err: unknown) => {
            this.opts.logger.error('config change rejected; still serving the last good config', {
              err: err instanceof Error ? err.message : String(err),
              version: this.current?.config.version,
            });
          });
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async load(first: boolean): Promise<void> {
    const { logger } = this.opts;
    const signature = await this.computeSignature().catch(() => '');
    const loaded = await loadFiles(this.opts.paths, { recursive: this.opts.recursive });
    this.signature = signature;
    for (const ig of loaded.ignored) logger.warn('ignored a document', { ...ig });

    let result = translate(loaded.snapshot, { version: this.version + 1, requireKeys: this.opts.requireKeys });
    const kept: string[] = [];
    if (!first) {
      // Stand the previous accepted version in for each resource whose edit was rejected.
      const snapshot = cloneSnapshot(loaded.snapshot);
      for (const s of result.statuses) {
        if (s.kind === 'Secret') continue;
        const accepted = s.conditions.find((c) => c.type === 'Accepted');
        if (accepted?.status !== 'False') continue;
        const key = keyOf(s.kind, s.namespace, s.name);
        const previous = this.lastAccepted.get(key);
        if (previous === undefined) continue;
        replaceResource(snapshot, s.kind, previous);
        kept.push(key);
        logger.warn('change to a resource rejected; still serving its previous version', {
          resource: key,
          file: loaded.origins.get(key),
          reason: accepted.reason,
          message: accepted.message,
        });
      }
      if (kept.length > 0) {
        result = translate(snapshot, { version: this.version + 1, requireKeys: this.opts.requireKeys });
      }
    }

    // Remember accepted versions (the substituted ones stay as they were).
    const present = new Set<string>();
    const all: RawResource[] = [
      ...loaded.snapshot.providers,
      ...loaded.snapshot.routes,
      ...loaded.snapshot.quotaPolicies,
    ];
    const acceptedNow = new Set(
      result.statuses
        .filter((s) => s.conditions.some((c) => c.type === 'Accepted' && c.status === 'True'))
        .map((s) => keyOf(s.kind, s.namespace, s.name)),
    );
    for (const r of all) {
      const key = keyOf(r.kind, r.metadata.namespace, r.metadata.name);
      present.add(key);
      if (acceptedNow.has(key) && !kept.includes(key)) this.lastAccepted.set(key, r);
    }
    for (const key of [...this.lastAccepted.keys()]) if (!present.has(key)) this.lastAccepted.delete(key);

    for (const s of result.statuses) {
      for (const c of s.conditions) {
        if (c.status === 'True') continue;
        const key = keyOf(s.kind, s.namespace, s.name);
        if (kept.includes(key) && c.type === 'Accepted') continue;
        logger.warn('resource not fully served', {
          resource: key,
          file: loaded.origins.get(key),
          condition: c.type,
          reason: c.reason,
          message: c.message,
        });
      }
    }

    if (this.current && this.current.config.hash === result.config.hash) {
      logger.debug('files changed but the config did not', { version: this.current.config.version });
      return;
    }
    this.version = result.config.version;
    this.current = { config: result.config, statuses: result.statuses, files: loaded.files, ignored: loaded.ignored };
    this.opts.onConfig(this.current);
    if (!first) {
      logger.info('config reloaded', {
        version: result.config.version,
        routes: result.config.routes.length,
        providers: result.config.providers.length,
        apiKeys: result.config.apiKeys.length,
        quotaPolicies: result.config.quotaPolicies.length,
      });
    }
  }

  private trigger = (): void => {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.schedule(), this.opts.debounceMs);
    this.debounceTimer.unref();
  };

  private async watch(): Promise<void> {
    // Directory given: watch it. File given: watch its directory, filtered to that name.
    for (const abs of new Set(this.opts.paths.map((p) => resolve(p)))) {
      if (!this.opts.fsWatch) break;
      try {
        const isDir = (await stat(abs)).isDirectory();
        const target = isDir ? abs : dirname(abs);
        const name = basename(abs);
        const w = watch(target, { recursive: isDir && this.opts.recursive, persistent: false }, (_event, file) => {
          if (isDir || file === null || file === name) this.trigger();
        });
        w.on('error', (err) => this.opts.logger.warn('file watch failed; relying on the periodic check', { err }));
        this.watchers.push(w);
      } catch (err) {
        this.opts.logger.warn('cannot watch path; relying on the periodic check', { path: abs, err });
      }
    }
    if (this.opts.pollMs > 0) {
      this.pollTimer = setInterval(() => {
        void this.computeSignature()
          .then((sig) => {
            if (sig === this.signature) return;
            this.signature = sig; // re-arming the debounce on every tick would starve it
            this.trigger();
          })
          .catch(() => {
            /* a path vanished: the next load reports it */
            this.trigger();
          });
      }, this.opts.pollMs);
      this.pollTimer.unref();
    }
  }

  /** Names, sizes and mtimes of every file the paths expand to. */
  private async computeSignature(): Promise<string> {
    const files = await listFiles(this.opts.paths, { recursive: this.opts.recursive });
    const parts = await Promise.all(
      files.map(async (f) => {
        const st = await stat(f);
        return `${f}\u0000${st.size}\u0000${st.mtimeMs}`;
      }),
    );
    return parts.join('\n');
  }
}

function cloneSnapshot(s: ResourceSnapshot): ResourceSnapshot {
  return {
    providers: [...s.providers],
    routes: [...s.routes],
    quotaPolicies: [...s.quotaPolicies],
    secrets: [...s.secrets],
  };
}

function replaceResource(snapshot: ResourceSnapshot, kind: Kind, resource: RawResource): void {
  const list =
    kind === 'LLMProvider' ? snapshot.providers : kind === 'LLMRoute' ? snapshot.routes : snapshot.quotaPolicies;
  const i = list.findIndex(
    (r) => r.metadata.namespace === resource.metadata.namespace && r.metadata.name === resource.metadata.name,
  );
  if (i >= 0) list[i] = resource;
  else list.push(resource);
}

/**
 * Config from files for `tollgate run`: load → translate → validate → hand over, again on every change.
 *
 * Change detection: fs.watch on every -f path (directories, and the parent directory of each file so that
 * editors that save by rename are seen), debounced (~100 ms), plus a periodic stat check of every file as
 * a fallback for file systems where fs.watch is unreliable (network mounts, some containers).
 *
 * What an invalid change does:
 * - a load error (YAML syntax, an empty file, unusable metadata, unreadable file): nothing changes; the last
 *   good config keeps being served and the error is logged with file:line. A file that changes while it is
 *   read is read again.
 * - a resource whose new version is not clean (Accepted=False, or ResolvedRefs=False such as a route naming a
 *   missing provider) while an earlier version was: that earlier version keeps being served (config/last-good.ts,
 *   shared with the operator), the rest of the change is applied, and the substitution is logged.
 * - a new resource that is rejected is left out (one invalid resource never blocks the others).
 * - a change that removes served resources or API keys (what a file cut short looks like) is applied only
 *   once the files are complete: replaced atomically, or unchanged for settleMs (ADR 0054).
 */
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { GatewayConfig } from '../../../contract/gateway-config.js';
import type { Logger } from '../log.js';
import { resourceKeyOf, translateKeepingLastGood } from './last-good.js';
import {
  FileChangingError,
  type FileFingerprint,
  type IgnoredDocument,
  type LoadResult,
  listFiles,
  loadFiles,
} from './load-files.js';
import { type Removals, removals, removesAnything } from './reload-guard.js';
import type { RawResource } from './resources.js';
import type { ResourceStatus } from './translate.js';

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
  /**
   * How long a file written in place must stay unchanged before a change that removes served resources
   * (routes, providers, quota policies, API keys) is applied (ADR 0054). Default 2000 ms.
   */
  settleMs?: number;
}

export class FileSource {
  private readonly opts: Required<Omit<FileSourceOptions, 'recursive'>> & { recursive: boolean };
  private readonly watchers: FSWatcher[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private version = 0;
  private current: AppliedConfig | undefined;
  private signature = '';
  /** The last clean version of every resource, kept to stand in for an edit that is not (ADR 0055). */
  private lastGood: ReadonlyMap<string, RawResource> = new Map();
  /** The files as read for the served config. */
  private fingerprints: readonly FileFingerprint[] = [];
  /** A removing in-place change waiting to settle: what the changed files were, since when. */
  private settle: { id: string; since: number } | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(opts: FileSourceOptions) {
    this.opts = { debounceMs: 100, pollMs: 2000, recursive: false, fsWatch: true, settleMs: 2000, ...opts };
  }

  get config(): GatewayConfig | undefined {
    return this.current?.config;
  }

  /** First load: throws when the files cannot be loaded (the caller exits with a message). Then watches. */
  async start(): Promise<AppliedConfig> {
    // A file being written as we start is read again (a few times) rather than failing the start.
    for (let tries = 1; ; tries++) {
      try {
        await this.load(true);
        break;
      } catch (err) {
        if (!(err instanceof FileChangingError) || tries >= 20) throw err;
        await new Promise((r) => setTimeout(r, this.opts.debounceMs));
      }
    }
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
    clearTimeout(this.settleTimer);
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
    let loaded: LoadResult;
    try {
      loaded = await loadFiles(this.opts.paths, { recursive: this.opts.recursive });
    } catch (err) {
      if (!(err instanceof FileChangingError) || first) throw err;
      // A writer is still at it: read again once its events have settled.
      logger.debug('a config file changed while it was read; reading it again', { err: err.message });
      this.trigger();
      return;
    }
    this.signature = signature;
    logger.debug('config files read', { bytes: loaded.fingerprints.reduce((n, f) => n + f.size, 0) });
    for (const ig of loaded.ignored) logger.warn('ignored a document', { ...ig });

    const version = this.version + 1;
    const { result, kept, next } = translateKeepingLastGood(
      loaded.snapshot,
      { version, requireKeys: this.opts.requireKeys },
      first ? new Map() : this.lastGood,
    );
    const keptKeys = new Set(kept.map((k) => k.key));

    for (const k of kept) {
      const c = k.problems[0];
      logger.warn('change to a resource rejected; still serving its previous version', {
        resource: k.key,
        file: loaded.origins.get(k.key),
        condition: c?.type,
        reason: c?.reason,
        message: c?.message,
      });
    }
    for (const s of result.statuses) {
      const key = resourceKeyOf(s.kind, s.namespace, s.name);
      if (keptKeys.has(key)) continue;
      for (const c of s.conditions) {
        if (c.status === 'True') continue;
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
      this.settle = undefined;
      clearTimeout(this.settleTimer);
      this.lastGood = next;
      this.fingerprints = loaded.fingerprints;
      logger.debug('files changed but the config did not', { version: this.current.config.version });
      return;
    }

    const removed = this.current ? removals(this.current.config, result.config) : undefined;
    if (removed && removesAnything(removed) && !this.complete(loaded.fingerprints, removed)) return;

    if (removed && removesAnything(removed)) {
      const fields = { ...removed, version: result.config.version };
      if (removed.opens) logger.error('reloaded config has no API keys: the gateway is now OPEN to anyone', fields);
      else if (removed.apiKeys.length > 0) logger.error('reloaded config removes API keys', fields);
      else logger.info('reloaded config removes resources', fields);
    }

    this.settle = undefined;
    clearTimeout(this.settleTimer);
    this.lastGood = next;
    this.fingerprints = loaded.fingerprints;
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

  /**
   * A removing change is applied only when the files are complete (ADR 0054): every file changed since the
   * served load was replaced atomically (new inode or new file), or has not changed for settleMs. Otherwise
   * it schedules a reload for when the delay is up and returns false.
   */
  private complete(now: readonly FileFingerprint[], removed: Removals): boolean {
    const before = new Map(this.fingerprints.map((f) => [f.file, f]));
    const inPlace = now.filter((f) => {
      const old = before.get(f.file);
      return old !== undefined && old.ino === f.ino && old.digest !== f.digest;
    });
    if (inPlace.length === 0) return true;
    const id = inPlace
      .map((f) => `${f.file}\u0000${f.ino}\u0000${f.size}\u0000${f.mtimeMs}\u0000${f.digest}`)
      .join('\n');
    const at = Date.now();
    if (this.settle?.id !== id) this.settle = { id, since: at };
    const left = this.settle.since + this.opts.settleMs - at;
    if (left <= 0) return true;
    this.opts.logger.warn('config change removes served resources; applying it once the files stop changing', {
      files: inPlace.map((f) => f.file),
      settleMs: this.opts.settleMs,
      ...removed,
    });
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => void this.schedule(), left + 1);
    this.settleTimer.unref();
    return false;
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
        return `${f}\u0000${st.ino}\u0000${st.size}\u0000${st.mtimeMs}`;
      }),
    );
    return parts.join('\n');
  }
}

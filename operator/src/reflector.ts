/**
 * List+watch of one kind (in one namespace or all), as client-go's reflector does: list, then watch from
 * the list's resourceVersion; on a clean watch end re-watch, on 410 Gone or any error relist after an
 * exponential backoff with jitter; a periodic resync relists everything so a missed event cannot last.
 * It only feeds callbacks; the snapshot store and reconcile decide what the events mean.
 */
import type { Watch } from '@kubernetes/client-node';
import type { Logger } from '../../dataplane/src/log.js';
import type { KubeObject } from './store.js';

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface ReflectorOptions {
  /** For logs: kind and namespace. */
  name: string;
  /** Watch path, for example /apis/tollgate.dev/v1alpha1/llmroutes. */
  path: string;
  list: () => Promise<ListResult>;
  watch: Watch;
  labelSelector?: string;
  /** For example `metadata.name=x` (one object; RBAC may then name it in resourceNames). */
  fieldSelector?: string;
  onList: (items: KubeObject[]) => void;
  onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void;
  logger: Logger;
  /** Full relist period; default 10 minutes. */
  resyncMs?: number;
  /** Backoff bounds; default 200 ms .. 30 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export class Reflector {
  private readonly stopController = new AbortController();
  private watchAbort: AbortController | undefined;
  private resourceVersion = '';
  private failures = 0;
  private synced!: () => void;
  /** Resolves after the first successful list. */
  readonly hasSynced = new Promise<void>((resolve) => {
    this.synced = resolve;
  });
  private loop: Promise<void> | undefined;

  constructor(private readonly o: ReflectorOptions) {}

  start(): Promise<void> {
    this.loop ??= this.run();
    return this.hasSynced;
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.watchAbort?.abort();
    await this.loop;
  }

  private backoff(): number {
    const base = this.o.backoffBaseMs ?? 200;
    const max = this.o.backoffMaxMs ?? 30_000;
    const ms = Math.min(max, base * 2 ** Math.min(this.failures, 16));
    return ms / 2 + Math.random() * (ms / 2);
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    const resyncMs = this.o.resyncMs ?? 600_000;
    let lastList = 0;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion || Date.now() - lastList >= resyncMs) {
          const list = await this.o.list();
          if (signal.aborted) return;
          this.o.onList(list.items);
          this.resourceVersion = list.resourceVersion;
          lastList = Date.now();
          this.synced();
        }
        const untilResync = Math.max(1000, resyncMs - (Date.now() - lastList));
        await this.watchOnce(untilResync);
        this.failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        const code =
          (error as { code?: number; statusCode?: number }).code ?? (error as { statusCode?: number }).statusCode;
        if (code === 410) {
          this.resourceVersion = '';
          continue;
        }
        this.failures++;
        const wait = this.backoff();
        this.o.logger.warn('list/watch failed; retrying', {
          watch: this.o.name,
          err: error instanceof Error ? error : new Error(String(error)),
          retryInMs: Math.round(wait),
        });
        this.resourceVersion = '';
        await sleep(wait, signal);
      }
    }
  }

  /** One watch request; resolves when it ends cleanly (server timeout or resync due), rejects on error. */
  private watchOnce(maxMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const query: Record<string, string | number | boolean> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.max(1, Math.min(300, Math.floor(maxMs / 1000))),
      };
      if (this.o.labelSelector) query.labelSelector = this.o.labelSelector;
      if (this.o.fieldSelector) query.fieldSelector = this.o.fieldSelector;
      this.o.watch
        .watch(
          this.o.path,
          query,
          (phase: string, obj: KubeObject & { code?: number }) => {
            if (phase === 'ERROR') {
              const gone = obj.code === 410;
              if (gone) this.resourceVersion = '';
              this.watchAbort?.abort();
              finish(Object.assign(new Error(`watch error ${obj.code ?? ''}`), { code: obj.code }));
              return;
            }
            const rv = obj.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') this.o.onEvent(phase, obj);
          },
          (err: unknown) => {
            const aborted = (err as { name?: string } | null)?.name === 'AbortError';
            finish(err && !aborted ? err : undefined);
          },
        )
        .then(
          (abort) => {
            this.watchAbort = abort;
            if (this.stopController.signal.aborted) abort.abort();
            timer = setTimeout(() => {
              abort.abort();
              finish();
            }, maxMs);
          },
          (err: unknown) => finish(err),
        );
    });
  }
}

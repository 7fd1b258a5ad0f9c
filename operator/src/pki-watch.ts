/**
 * Watches the config channel's PKI Secret while the operator runs. A valid new serving certificate in it
 * (rotated by hand or by another replica) is loaded into the TLS server without a restart; a deleted
 * Secret is written back from memory (same CA, so pods keep trusting it); an unusable one (expiring
 * within 30 days, wrong names, key mismatch, garbage) gets a new serving certificate from its CA. Only
 * the leader writes; every replica reloads. `decidePki` is the pure part.
 */
import type { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { Logger } from '../../dataplane/src/log.js';
import { type Pki, reissueServing, servingUsable } from './certs.js';
import { pkiFromData, statusCode, writePkiSecret } from './kube-io.js';
import { Reflector } from './reflector.js';
import type { KubeObject } from './store.js';

export type PkiAction =
  | { type: 'none' }
  /** Serve this PKI (it is valid and differs from the one served). */
  | { type: 'adopt'; pki: Pki }
  /** Leader: sign a new serving certificate with this CA and write it. */
  | { type: 'reissue'; ca: { caCert: string; caKey: string } }
  /** Leader: write the served PKI back (the Secret is gone or incomplete). */
  | { type: 'restore' };

const same = (a: Pki, b: Pki) => a.caCert === b.caCert && a.caKey === b.caKey && a.cert === b.cert && a.key === b.key;

export function decidePki(
  current: Pki,
  observed: Pki | undefined,
  hosts: readonly string[],
  leader: boolean,
  usable: (p: Pki, h: readonly string[]) => boolean = servingUsable,
): PkiAction {
  if (!observed) return leader ? { type: 'restore' } : { type: 'none' };
  if (usable(observed, hosts)) return same(observed, current) ? { type: 'none' } : { type: 'adopt', pki: observed };
  return leader ? { type: 'reissue', ca: { caCert: observed.caCert, caKey: observed.caKey } } : { type: 'none' };
}

export interface PkiWatcherOptions {
  core: CoreV1Api;
  watch: Watch;
  namespace: string;
  name: string;
  hosts: readonly string[];
  initial: Pki;
  isLeader: () => boolean;
  /** Loads a new serving certificate into the TLS server. */
  apply: (pki: Pki) => void;
  logger: Logger;
  /** Relist period (also how often expiry is re-checked); default 10 minutes. */
  resyncMs?: number;
}

export class PkiWatcher {
  private current: Pki;
  private observed: Pki | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly reflector: Reflector;
  private stopped = false;
  synced = false;
  /** Counts for metrics and tests. */
  readonly counts = { reloads: 0, restores: 0, reissues: 0, errors: 0 };

  constructor(private readonly o: PkiWatcherOptions) {
    this.current = o.initial;
    this.observed = o.initial;
    const fieldSelector = `metadata.name=${o.name}`;
    this.reflector = new Reflector({
      name: `PKI Secret ${o.namespace}/${o.name}`,
      path: `/api/v1/namespaces/${o.namespace}/secrets`,
      fieldSelector,
      watch: o.watch,
      logger: o.logger,
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
      list: async () => {
        const res = await o.core.listNamespacedSecret({ namespace: o.namespace, fieldSelector });
        return { items: res.items as KubeObject[], resourceVersion: res.metadata?.resourceVersion ?? '' };
      },
      onList: (items) => {
        this.synced = true;
        this.observe(pkiFromData(items.find((i) => i.metadata?.name === o.name)?.data));
      },
      onEvent: (type, obj) => {
        if (obj.metadata?.name !== o.name) return;
        this.observe(type === 'DELETED' ? undefined : pkiFromData(obj.data));
      },
    });
  }

  /** The PKI being served. */
  get pki(): Pki {
    return this.current;
  }

  start(): void {
    void this.reflector.start();
  }

  /** Re-evaluates the last observed Secret (a new leader repairs what a standby only saw). */
  recheck(): void {
    this.observe(this.observed);
  }

  private observe(observed: Pki | undefined): void {
    this.observed = observed;
    this.chain = this.chain.then(() => this.act(observed)).catch(() => {});
  }

  private async act(observed: Pki | undefined): Promise<void> {
    if (this.stopped) return;
    const secret = `${this.o.namespace}/${this.o.name}`;
    const action = decidePki(this.current, observed, this.o.hosts, this.o.isLeader());
    try {
      switch (action.type) {
        case 'none':
          return;
        case 'adopt':
          this.o.apply(action.pki);
          this.current = action.pki;
          this.counts.reloads++;
          this.o.logger.info('reloaded the config channel certificate from its Secret', {
            secret,
            caChanged: action.pki.caCert !== this.o.initial.caCert,
          });
          return;
        case 'restore':
          await writePkiSecret(this.o.core, this.o.namespace, this.o.name, this.current);
          this.counts.restores++;
          this.o.logger.warn('the config channel PKI Secret was deleted or incomplete; wrote it back', { secret });
          return;
        case 'reissue': {
          let next: Pki;
          try {
            next = await reissueServing(action.ca, this.o.hosts);
          } catch {
            // The CA in the Secret is unusable too: put the served PKI back.
            next = this.current;
          }
          await writePkiSecret(this.o.core, this.o.namespace, this.o.name, next);
          this.counts.reissues++;
          this.o.logger.warn('the config channel certificate in its Secret was unusable; issued a new one', { secret });
          // The watch event of this write adopts it.
          return;
        }
      }
    } catch (error) {
      this.counts.errors++;
      this.o.logger.error('could not repair the config channel PKI Secret', {
        secret,
        code: statusCode(error),
        err: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.reflector.stop();
    await this.chain;
  }
}

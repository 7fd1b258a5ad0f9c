/**
 * QuotaPolicy usage for status, the "load" half: while leading, reads every served policy's counters
 * at an interval (the first read soon after leading starts) and asks for a reconcile, which writes them
 * with the conditions in one status write. On a Redis error the previous reading stays (its lastUpdated
 * says how old it is) and the next interval tries again.
 */
import type { GatewayConfig } from '../../contract/gateway-config.js';
import type { Logger } from '../../dataplane/src/log.js';
import type { CapacityStatus } from './capacity-usage.js';
import type { QuotaUsageStatus } from './quota-usage.js';

export interface UsageReader {
  read(policies: GatewayConfig['quotaPolicies'], topKeys?: number): Promise<Map<string, QuotaUsageStatus>>;
  /** LLMProvider capacity in use, by provider id (capacity-usage.ts); absent: none in status. */
  readCapacity?(providers: GatewayConfig['providers']): Promise<Map<string, CapacityStatus>>;
  close(): Promise<void>;
}

export interface UsageLoopOptions {
  reader: UsageReader;
  intervalMs: number;
  /** perKey policies: how many of the heaviest keys each limit lists; default 5. */
  topKeys?: number;
}

export interface UsageCounters {
  usageReads: number;
  usageReadErrors: number;
}

export class UsageLoop {
  /** Last reading, by policy id (`namespace/name`); empty until this term's first good read. */
  usage = new Map<string, QuotaUsageStatus>();
  /** Last capacity reading, by provider id. */
  capacity = new Map<string, CapacityStatus>();
  private timer: NodeJS.Timeout | undefined;
  private run: Promise<void> | undefined;
  private lastWarn = 0;
  private active = false;

  constructor(
    private readonly o: UsageLoopOptions,
    /** The config being served: its policies are what is read. */
    private readonly served: () => GatewayConfig | undefined,
    /** A reading arrived: write it. */
    private readonly changed: () => void,
    private readonly metrics: UsageCounters,
    private readonly log: Logger,
  ) {}

  /** A term starts: the first read soon after the first config, then every interval. */
  start(): void {
    this.active = true;
    this.later(Math.min(this.o.intervalMs, 1000));
  }

  /** A term ends: no more reads, and its reading is forgotten. */
  pause(): void {
    this.halt();
    this.usage = new Map();
    this.capacity = new Map();
  }

  private halt(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private later(ms: number): void {
    if (!this.active || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run = this.refresh().finally(() => {
        this.run = undefined;
        this.later(this.o.intervalMs);
      });
    }, ms);
  }

  private async refresh(): Promise<void> {
    const served = this.served();
    if (!served || !this.active) return;
    try {
      this.metrics.usageReads++;
      this.usage = await this.o.reader.read(served.quotaPolicies, this.o.topKeys ?? 5);
      if (this.o.reader.readCapacity) this.capacity = await this.o.reader.readCapacity(served.providers);
      this.changed();
    } catch (error) {
      this.metrics.usageReadErrors++;
      const now = Date.now();
      if (now - this.lastWarn > 60_000) {
        this.lastWarn = now;
        this.log.warn('could not read quota usage from redis; status keeps the last reading', {
          err: error instanceof Error ? error : new Error(String(error)),
        });
      }
    }
  }

  /** Stops reading and closes the reader (after the read under way). */
  async stop(): Promise<void> {
    this.halt();
    await this.run;
    await this.o.reader.close().catch(() => {});
  }
}

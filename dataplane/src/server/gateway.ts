/**
 * Entry point of the data plane's HTTP server (owned by the proxy core). This file pins the signature
 * that `tollgate run`, `tollgate dataplane` and the tests build on; the implementation lands behind it.
 */
import type { Server } from 'node:http';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Logger } from '../log.js';

export interface GatewayOptions {
  /** Largest accepted request body in bytes; default 32 MiB. */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface Gateway {
  readonly server: Server;
  /** Swaps in a validated config atomically; requests in flight finish on the config they started with. */
  applyConfig(config: GatewayConfig): void;
  /** The config being served, if any (readyz is 200 once there is one). */
  readonly config: GatewayConfig | undefined;
  /** Listens; resolves with the bound port (pass 0 for a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (up to a grace period), closes upstream pools. */
  close(): Promise<void>;
}

export declare function createGateway(options?: GatewayOptions): Gateway;

/**
 * The authenticate stage: the presented API key → its config (sha256 of the key, one Map lookup). Runs
 * before the body is read, so a request without a valid key is refused without reading it.
 */
import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiKeyConfig } from '../../../../contract/gateway-config.js';
import { GatewayError } from '../../errors.js';

/** The keys of one config, built when it is applied. */
export interface KeyTable {
  /** sha256 hex → key. */
  readonly keys: ReadonlyMap<string, ApiKeyConfig>;
  /** No keys and requireKeys false: requests without a key see every namespace. */
  readonly open: boolean;
}

/** The key the request presented; undefined in open mode; or the refusal. */
export function authenticate(t: KeyTable, h: IncomingHttpHeaders): ApiKeyConfig | undefined | GatewayError {
  // Open mode: SDKs insist on sending some key; whatever they send is ignored.
  if (t.open) return undefined;
  let presented: string | undefined;
  const auth = h.authorization;
  if (auth !== undefined && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ')
    presented = auth.slice(7).trim();
  else {
    const x = h['x-api-key'];
    if (typeof x === 'string' && x !== '') presented = x.trim();
  }
  if (presented === undefined || presented === '')
    return new GatewayError('missing_api_key', 'missing API key: send Authorization: Bearer <key> or x-api-key');
  // One-shot crypto.hash: no Hash object per request (same digest as createHash().update().digest()).
  const key = t.keys.get(hash('sha256', presented, 'hex'));
  if (key !== undefined) return key;
  return new GatewayError('invalid_api_key', 'invalid API key');
}
